package unsubscribe_test

import (
	"bufio"
	"errors"
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/dncgate/dncgate/unsubscribe"
)

const mailtoDomain = "unsub.acme.test"

type mailtoSite struct {
	m      *unsubscribe.Mailto
	clock  *clock
	stores storePair
	seal   func(rcpt, org string) string
}

func newMailtoSite(t *testing.T, p storePair, maxConns int, opts ...func(*unsubscribe.MailtoOptions)) *mailtoSite {
	t.Helper()
	s := &mailtoSite{clock: newClock(start), stores: withOptOutList(t, p)}
	kr := testKeyring(t)
	s.seal = func(rcpt, org string) string { return kr.Seal(rcpt, org, s.clock.Now()) }
	o := unsubscribe.MailtoOptions{
		Addr: "127.0.0.1:0", Domain: mailtoDomain, Keyring: kr, Org: testOrg,
		MaxAge: 30 * 24 * time.Hour, OptOuts: listOptOuts{p.writer}, Now: s.clock.Now, MaxConns: maxConns,
	}
	for _, f := range opts {
		f(&o)
	}
	m, err := unsubscribe.NewMailto(o)
	if err != nil {
		t.Fatal(err)
	}
	go m.Serve()
	t.Cleanup(func() { m.Shutdown(t.Context()) })
	s.m = m
	return s
}

func (s *mailtoSite) addr(rcpt string) string {
	return "unsubscribe+" + s.seal(rcpt, testOrg) + "@" + mailtoDomain
}

// wantCode checks err is an SMTP reply with code and enhanced code.
func wantCode(t *testing.T, what string, err error, code int, enh smtp.EnhancedCode) {
	t.Helper()
	var se *smtp.SMTPError
	if !errors.As(err, &se) || se.Code != code || se.EnhancedCode != enh {
		t.Errorf("%s: %v, want %d %d.%d.%d", what, err, code, enh[0], enh[1], enh[2])
	}
}

func TestMailto(t *testing.T) {
	for _, p := range stores(t) {
		t.Run(p.name, func(t *testing.T) { checkMailto(t, newMailtoSite(t, p, 0)) })
	}
}

func checkMailto(t *testing.T, s *mailtoSite) {
	c, err := smtp.Dial(s.m.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Mail("", nil); err != nil { // a null reverse-path is fine
		t.Fatal(err)
	}
	wantCode(t, "RCPT elsewhere", c.Rcpt("someone@example.org", nil), 550, smtp.EnhancedCode{5, 7, 1})
	wantCode(t, "RCPT plain user", c.Rcpt("postmaster@"+mailtoDomain, nil), 550, smtp.EnhancedCode{5, 7, 1})
	wantCode(t, "RCPT bad token", c.Rcpt("unsubscribe+AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA@"+mailtoDomain, nil), 550, smtp.EnhancedCode{5, 1, 1})
	other := "unsubscribe+" + s.seal("x@example.fr", "globex") + "@" + mailtoDomain
	wantCode(t, "RCPT other org", c.Rcpt(other, nil), 550, smtp.EnhancedCode{5, 1, 1})
	old := s.addr("old@example.fr")
	s.clock.Advance(31 * 24 * time.Hour)
	wantCode(t, "RCPT expired", c.Rcpt(old, nil), 550, smtp.EnhancedCode{5, 7, 1})
	// The domain and the prefix match in any case.
	good := strings.Replace(s.addr("jeanne@example.fr"), "unsubscribe+", "Unsubscribe+", 1)
	good = strings.Replace(good, mailtoDomain, strings.ToUpper(mailtoDomain), 1)
	if err := c.Rcpt(good, nil); err != nil {
		t.Fatalf("RCPT %s: %v", good, err)
	}
	if optedOut(t, s.stores.other, "jeanne@example.fr") {
		t.Fatal("opted out before the end of DATA")
	}
	sendBody(t, c, "Subject: unsubscribe\r\n\r\nplease\r\n")
	if !optedOut(t, s.stores.other, "jeanne@example.fr") {
		t.Error("the mailto request did not opt out")
	}
	for _, rcpt := range []string{"old@example.fr", "x@example.fr"} {
		if optedOut(t, s.stores.other, rcpt) {
			t.Errorf("%s opted out by a refused recipient", rcpt)
		}
	}
}

func sendBody(t *testing.T, c *smtp.Client, body string) {
	t.Helper()
	w, err := c.Data()
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte(body))
	if err := w.Close(); err != nil {
		t.Fatalf("end of DATA: %v", err)
	}
}

func TestMailtoLimits(t *testing.T) {
	s := newMailtoSite(t, embeddedPair(t), 1)
	c, err := smtp.Dial(s.m.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Hello("client.test"); err != nil {
		t.Fatal(err)
	}
	// A second connection while the first holds the only slot.
	conn, err := net.Dial("tcp", s.m.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	line, _ := bufio.NewReader(conn).ReadString('\n')
	conn.Close()
	if !strings.HasPrefix(line, "421 4.7.0 ") {
		t.Errorf("connection over the limit got %q, want 421 4.7.0", line)
	}
	c.Mail("a@example.org", nil)
	if err := c.Rcpt(s.addr("big@example.fr"), nil); err != nil {
		t.Fatal(err)
	}
	w, err := c.Data()
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte("Subject: x\r\n\r\n" + strings.Repeat(strings.Repeat("x", 998)+"\r\n", 80)))
	wantCode(t, "oversized body", w.Close(), 552, smtp.EnhancedCode{5, 3, 4})
	if optedOut(t, s.stores.other, "big@example.fr") {
		t.Error("an oversized message opted out")
	}
	c.Reset()
	c.Mail("a@example.org", nil)
	var last error
	for i := range 11 {
		last = c.Rcpt(s.addr("r"+string(rune('a'+i))+"@example.fr"), nil)
	}
	wantCode(t, "11th recipient", last, 452, smtp.EnhancedCode{4, 5, 3})
}

// One client network cannot take the listener offline: past its share it
// is answered 421 while others still get in, up to the total.
func TestMailtoConnsPerClient(t *testing.T) {
	s := newMailtoSite(t, embeddedPair(t), 5, func(o *unsubscribe.MailtoOptions) { o.MaxConnsPerClient = 2 })
	greet := func(src string) string {
		t.Helper()
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}}
		conn, err := d.Dial("tcp", s.m.Addr().String())
		if err != nil {
			t.Fatalf("dial from %s: %v", src, err)
		}
		t.Cleanup(func() { conn.Close() })
		conn.SetDeadline(time.Now().Add(10 * time.Second))
		line, _ := bufio.NewReader(conn).ReadString('\n')
		return line
	}
	for _, src := range []string{"127.0.0.2", "127.0.0.2"} {
		if line := greet(src); !strings.HasPrefix(line, "220 ") {
			t.Fatalf("connection from %s got %q", src, line)
		}
	}
	if line := greet("127.0.0.2"); line != "421 4.7.0 Too many connections from your address, try again later\r\n" {
		t.Errorf("third connection from one address got %q", line)
	}
	for _, src := range []string{"127.0.0.3", "127.0.0.3", "127.0.0.4"} {
		if line := greet(src); !strings.HasPrefix(line, "220 ") {
			t.Fatalf("connection from %s got %q", src, line)
		}
	}
	if line := greet("127.0.0.5"); line != "421 4.7.0 Too many connections, try again later\r\n" {
		t.Errorf("connection over the total got %q", line)
	}
}

// TestMailtoSwaks sends the request with swaks, as a mail provider would.
func TestMailtoSwaks(t *testing.T) {
	swaks, err := exec.LookPath("swaks")
	if err != nil {
		t.Fatal("swaks is needed (apt-get install swaks)")
	}
	s := newMailtoSite(t, embeddedPair(t), 0)
	run := func(to string) (string, error) {
		out, err := exec.Command(swaks, "--server", s.m.Addr().String(), "--from", "jeanne@example.fr",
			"--to", to, "--h-Subject", "unsubscribe", "--body", "unsubscribe").CombinedOutput()
		return string(out), err
	}
	if out, err := run(s.addr("jeanne@example.fr")); err != nil {
		t.Fatalf("swaks: %v\n%s", err, out)
	}
	if !optedOut(t, s.stores.other, "jeanne@example.fr") {
		t.Error("swaks' request did not opt out")
	}
	out, err := run("someone@example.org")
	if err == nil || !strings.Contains(out, "550 5.7.1") {
		t.Errorf("swaks to another address: err %v, want a 550 5.7.1 refusal:\n%s", err, out)
	}
}
