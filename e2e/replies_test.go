package e2e

import (
	"testing"

	"github.com/emersion/go-smtp"
)

// TestReplyExemption: with exempt_replies on, an answer to mail the
// prospect wrote is delivered without taking a slot, while a follow-up to
// the gateway's own mail counts like any prospecting mail.
func TestReplyExemption(t *testing.T) {
	dir := t.TempDir()
	up := startUpstream(t)
	addr := freeAddr(t)
	cfg := writeConfig(t, dir, relayConfig(dir, addr, up.addr, capConfig+"\n[caps_options]\nexempt_replies = true\n"))
	addUser(t, "rep@acme.test", "--config", cfg)
	startGateway(t, addr, "--config", cfg)

	send := func(subject, inReplyTo string) error {
		body := message("rep@acme.test", capRcpt, subject)
		if inReplyTo != "" {
			body = append([]byte("In-Reply-To: <"+inReplyTo+">\r\n"), body...)
		}
		return sendAs(addr, "rep@acme.test", "rep@acme.test", []string{capRcpt}, body)
	}
	// Two answers to the prospect's own mail, then two mails of our own
	// (the second a follow-up to the first): four delivered, two counted.
	steps := []struct{ subject, inReplyTo string }{
		{"answer-1", "question@prospect.test"},
		{"answer-2", "question@prospect.test"},
		{"pitch", ""},
		{"follow-up", "pitch@acme.test"},
	}
	for _, s := range steps {
		if err := send(s.subject, s.inReplyTo); err != nil {
			t.Fatalf("%s: %v", s.subject, err)
		}
	}
	// Full now: an answer is refused at RCPT too, where its headers are
	// not known yet.
	var se *smtp.SMTPError
	if err := send("answer-3", "question@prospect.test"); !asSMTPError(err, &se) || se.Code != 550 {
		t.Fatalf("send over the cap: got %v, want 550", err)
	}
	if n := up.count()[capRcpt]; n != len(steps) {
		t.Fatalf("%s received %d messages, want %d", capRcpt, n, len(steps))
	}
}
