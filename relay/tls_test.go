package relay

import (
	"crypto/tls"
	"strings"
	"testing"

	"github.com/emersion/go-smtp"
)

func withTLSListeners(t *testing.T) option {
	return withListeners(
		Listener{Name: "submission", Addr: "127.0.0.1:0", Mode: ModeStartTLS, TLS: testTLS(t)},
		Listener{Name: "submissions", Addr: "127.0.0.1:0", Mode: ModeImplicitTLS, TLS: testTLS(t)},
	)
}

// A starttls listener refuses AUTH and MAIL before TLS, even from loopback.
func TestStartTLSRequired(t *testing.T) {
	e := testServer(t, withTLSListeners(t))
	c := goClient(t, e.addr(0))
	if ok, _ := c.Extension("AUTH"); ok {
		t.Error("AUTH advertised before STARTTLS")
	}
	if ok, _ := c.Extension("STARTTLS"); !ok {
		t.Error("STARTTLS not advertised")
	}
	err := c.Auth(saslPlain(repEmail, repPassword))
	if msg := smtpErr(t, err, 530, smtp.EnhancedCode{5, 7, 0}); msg != "Must issue a STARTTLS command first" {
		t.Errorf("AUTH: %q", msg)
	}
	err = c.Mail(repEmail, nil)
	smtpErr(t, err, 530, smtp.EnhancedCode{5, 7, 0})
}

func TestStartTLSSend(t *testing.T) {
	e := testServer(t, withTLSListeners(t))
	c, err := smtp.DialStartTLS(e.addr(0), clientTLS(t))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	authPlain(t, c)
	state, ok := c.TLSConnectionState()
	if !ok || state.Version < tls.VersionTLS12 {
		t.Fatalf("TLS state %v %x", ok, state.Version)
	}
	if err := c.SendMail(repEmail, []string{"a@example.com"}, strings.NewReader(message(repEmail, "tls"))); err != nil {
		t.Fatal(err)
	}
	if n := len(e.fwd.got()); n != 1 {
		t.Errorf("forwarded %d", n)
	}
}

func TestImplicitTLSSend(t *testing.T) {
	e := testServer(t, withTLSListeners(t))
	c, err := smtp.DialTLS(e.addr(1), clientTLS(t))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if ok, _ := c.Extension("STARTTLS"); ok {
		t.Error("STARTTLS offered inside TLS")
	}
	authPlain(t, c)
	if err := c.SendMail(repEmail, []string{"a@example.com"}, strings.NewReader(message(repEmail, "tls"))); err != nil {
		t.Fatal(err)
	}
	if n := len(e.fwd.got()); n != 1 {
		t.Errorf("forwarded %d", n)
	}
}

func TestTLSMinimumVersion(t *testing.T) {
	weak := &tls.Config{Certificates: testTLS(t).Certificates, MinVersion: tls.VersionTLS10}
	e := testServer(t, withListeners(Listener{Name: "tls", Addr: "127.0.0.1:0", Mode: ModeImplicitTLS, TLS: weak}))
	cfg := clientTLS(t)
	cfg.MinVersion, cfg.MaxVersion = tls.VersionTLS10, tls.VersionTLS11
	conn, err := tls.Dial("tcp", e.addr(0), cfg)
	if err == nil {
		conn.Close()
		t.Fatal("TLS 1.1 handshake succeeded")
	}
	if weak.MinVersion != tls.VersionTLS10 {
		t.Error("the caller's TLS config was modified")
	}
}
