package stamp

import (
	"errors"
	"strings"
	"testing"

	"github.com/dncgate/dncgate/relay/rewrite"
	"github.com/dncgate/dncgate/smtpreply"
	"github.com/emersion/go-smtp"
)

// A message as swaks or Python's smtplib submit it, Bcc field included:
// no copy, to a To:, Cc: or Bcc: recipient, footed, signed or with the
// footer off, may show the blind list (RFC 5322 §3.6.3).
func TestNoCopyShowsBcc(t *testing.T) {
	const head = "From: Rep <rep@acme.example>\r\nTo: a@acme.fr\r\nCc: b@acme.fr\r\n" +
		"Bcc: c@acme.fr,\r\n d@acme.fr\r\nBCC: e@acme.fr\r\nResent-Bcc: f@acme.fr\r\nSubject: hi\r\n"
	signed := head + "MIME-Version: 1.0\r\nContent-Type: multipart/signed; protocol=\"application/pgp-signature\"; boundary=b\r\n\r\n" +
		"--b\r\nContent-Type: text/plain\r\n\r\nhello\r\n--b\r\nContent-Type: application/pgp-signature\r\n\r\n" + pgpSignature + "\r\n--b--\r\n"
	for name, s := range map[string]*Stamper{
		"footer":    newStamper(t),
		"no footer": newStamper(t, func(o *Options) { o.NoFooter = true }),
		"headers":   newStamper(t, func(o *Options) { o.Signed = rewrite.HeadersOnly }),
	} {
		for _, msg := range []string{head + "\r\nhello\r\n", signed} {
			p, err := s.Prepare([]byte(msg), "rep@acme.example")
			if err != nil {
				t.Fatal(err)
			}
			for _, rcpt := range []string{"a@acme.fr", "b@acme.fr", "c@acme.fr", "d@acme.fr"} {
				out := string(forRcpt(t, p, rcpt, ""))
				hdr, _, _ := strings.Cut(out, "\r\n\r\n")
				if strings.Contains(strings.ToLower(hdr), "bcc:") || strings.Contains(out, "d@acme.fr") {
					t.Errorf("%s: %s's copy shows the blind list:\n%s", name, rcpt, hdr)
				}
				if !strings.Contains(hdr, "Cc: b@acme.fr\r\nSubject: hi") {
					t.Errorf("%s: %s's copy lost its other fields:\n%s", name, rcpt, hdr)
				}
			}
		}
	}
}

// A copy that would grow past the rewriter's allowance is refused with a
// permanent 552 5.3.4, naming why, rather than sent or retried.
func TestTooLargeCopyRefused(t *testing.T) {
	body := strings.Repeat("\xe9t\xe9 \xe0 la plage. ", 20000)
	msg := "From: rep@acme.example\r\nTo: jean@acme.fr\r\nSubject: big\r\n" +
		"Content-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: 7bit\r\n\r\n" + body + "\r\n"
	p, err := newStamper(t).Prepare([]byte(msg), "rep@acme.example")
	if err != nil {
		t.Fatal(err)
	}
	_, err = p.For("jean@acme.fr", "", "")
	var ue *smtpreply.Error
	if !errors.As(err, &ue) || ue.Code != 552 || ue.Enhanced != (smtp.EnhancedCode{5, 3, 4}) || ue.Temporary() {
		t.Fatalf("For = %v, want a permanent 552 5.3.4", err)
	}
}
