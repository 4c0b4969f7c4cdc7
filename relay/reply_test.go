package relay

import (
	"strings"
	"testing"
)

// TestLeftOutRecipientReply: a recipient that drop-and-notify will leave
// out is not told it gets the message. go-smtp counts only the RCPTs that
// take its own reply, so the first RCPT of a transaction keeps go-smtp's.
func TestLeftOutRecipientReply(t *testing.T) {
	chk := newTableCheck()
	chk.answers["jan@firma.be"] = onBEList
	chk.answers["gone@firma.fr"] = optedOut
	e := testServer(t, withCheck(chk), withMode(DropAndNotify))
	c := e.login(t)
	c.must("MAIL FROM:<rep@acme.fr>", 250)
	c.must("RCPT TO:<ok@firma.fr>", 250)
	for _, rcpt := range []string{"jan@firma.be", "gone@firma.fr", "jan@firma.be"} {
		if got := c.cmd("RCPT TO:<" + rcpt + ">"); got != "250 2.1.5 Recipient ok" {
			t.Errorf("RCPT %s: got %q, want %q", rcpt, got, "250 2.1.5 Recipient ok")
		}
	}
	c.must("DATA", 354)
	c.send(message(repEmail, "hello") + ".\r\n")
	if got := c.expect(250); !strings.HasPrefix(got, "250 2.0.0 Delivered to 1 recipient(s) (ref ") {
		t.Errorf("DATA: %q", got)
	}
}

// TestRefusedRcptLoggedOnce: a refused recipient is one log line, which
// holds the verdict's proof and masks the address.
func TestRefusedRcptLoggedOnce(t *testing.T) {
	for _, mode := range []RefusalMode{Reject, DropAndNotify} {
		t.Run(mode.String(), func(t *testing.T) {
			chk := newTableCheck()
			chk.answers["jan@firma.be"] = onBEList
			e := testServer(t, withCheck(chk), withMode(mode))
			c := e.login(t)
			c.must("MAIL FROM:<rep@acme.fr>", 250)
			c.must("RCPT TO:<ok@firma.fr>", 250)
			c.must("RCPT TO:<jan@firma.be>", map[RefusalMode]int{Reject: 550, DropAndNotify: 250}[mode])
			c.must("RSET", 250)
			var lines []string
			for _, l := range strings.Split(e.logs.String(), "\n") {
				if strings.Contains(l, "j***@firma.be") {
					lines = append(lines, l)
				}
			}
			if len(lines) != 1 {
				t.Fatalf("%d lines for the refusal, want 1:\n%s", len(lines), strings.Join(lines, "\n"))
			}
			for _, want := range []string{"rcpt=j***@firma.be", "reason=list", "code=550", "cause.list=be-dncm", "cause.version=v7", "cause.key_kind=phone"} {
				if !strings.Contains(lines[0], want) {
					t.Errorf("refusal line lacks %q: %s", want, lines[0])
				}
			}
			if strings.Contains(e.logs.String(), "jan@firma.be") {
				t.Errorf("log names the recipient in full:\n%s", e.logs.String())
			}
		})
	}
}

// TestQuotedLocalPartEchoed: go-smtp hands over a quoted local part
// without its quotes; the reply quotes it again, or it would name another
// address.
func TestQuotedLocalPartEchoed(t *testing.T) {
	chk := newTableCheck()
	chk.answers[`a"b@firma.be`] = onBEList
	e := testServer(t, withCheck(chk), withMode(Reject))
	c := e.login(t)
	c.must("MAIL FROM:<rep@acme.fr>", 250)
	for rcpt, want := range map[string]string{
		`"jan de wit"@firma.be`: `501 5.1.3 <"jan de wit"@firma.be>: bad address syntax (ref `,
		`"a\"b"@firma.be`:       `550 5.7.1 <"a\"b"@firma.be>: on the be-dncm list (phone match) [list:be-dncm] (ref `,
	} {
		if got := c.cmd("RCPT TO:<" + rcpt + ">"); !strings.HasPrefix(got, want) {
			t.Errorf("RCPT %s: got %q, want %q...", rcpt, got, want)
		}
	}
}
