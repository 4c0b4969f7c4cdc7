package relay

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// dialFrom connects to addr from the loopback address src (127.0.0.2 and
// the rest of 127/8 answer on Linux loopback) and returns the first line.
func dialFrom(t *testing.T, src, addr string) (net.Conn, *bufio.Reader, string) {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}}
	conn, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("dial from %s: %v", src, err)
	}
	t.Cleanup(func() { conn.Close() })
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	r := bufio.NewReader(conn)
	line, err := r.ReadString('\n')
	if err != nil {
		t.Fatalf("greeting from %s: %v", src, err)
	}
	return conn, r, line
}

// Idle connections from several addresses cannot fill the gateway: past
// the global limit a client is answered 421 at once, and let in when a
// slot frees.
func TestGlobalConnLimit(t *testing.T) {
	e := testServer(t, func(o *Options) { o.MaxConns = 4; o.MaxConnsPerIP = 2 })
	var held []net.Conn
	for _, src := range []string{"127.0.0.2", "127.0.0.2", "127.0.0.3", "127.0.0.3"} {
		conn, _, line := dialFrom(t, src, e.addr(0))
		if !strings.HasPrefix(line, "220 ") {
			t.Fatalf("connection from %s got %q", src, line)
		}
		held = append(held, conn)
	}
	_, r, line := dialFrom(t, "127.0.0.4", e.addr(0))
	if want := "421 4.7.0 relay.test Too many connections, try again later\r\n"; line != want {
		t.Errorf("fifth connection got %q, want %q", line, want)
	}
	if _, err := r.ReadByte(); err != io.EOF {
		t.Errorf("refused connection: read %v, want EOF", err)
	}
	if !strings.Contains(e.logs.String(), `reason="too many connections"`) {
		t.Errorf("refusal not logged:\n%s", e.logs.String())
	}
	held[0].Close()
	waitFor(t, func() bool { return e.srv.conns.count() < 4 })
	if _, _, line := dialFrom(t, "127.0.0.4", e.addr(0)); !strings.HasPrefix(line, "220 ") {
		t.Errorf("after a slot freed, got %q", line)
	}
}

// The per-address limit holds whatever the global one leaves.
func TestConnsPerAddressAmongOthers(t *testing.T) {
	e := testServer(t, func(o *Options) { o.MaxConns = 10; o.MaxConnsPerIP = 2 })
	dialFrom(t, "127.0.0.2", e.addr(0))
	dialFrom(t, "127.0.0.2", e.addr(0))
	if _, _, line := dialFrom(t, "127.0.0.2", e.addr(0)); !strings.HasPrefix(line, "421 4.7.0 relay.test Too many connections from your address") {
		t.Errorf("third from one address got %q", line)
	}
	if _, _, line := dialFrom(t, "127.0.0.3", e.addr(0)); !strings.HasPrefix(line, "220 ") {
		t.Errorf("another address got %q", line)
	}
}

// Before AUTH a connection may stay idle for PreAuthTimeout only; after
// it, for ReadTimeout.
func TestPreAuthTimeout(t *testing.T) {
	e := testServer(t, func(o *Options) {
		o.PreAuthTimeout = 200 * time.Millisecond
		o.ReadTimeout = 3 * time.Second
	})
	anon := dialRaw(t, e.addr(0))
	anon.ehlo()
	start := time.Now()
	if got := anon.reply(); !strings.HasPrefix(got, "421 4.4.2") {
		t.Errorf("idle client before AUTH got %q", got)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("idle client before AUTH closed after %v, want about 200ms", d)
	}
	c := e.login(t)
	time.Sleep(600 * time.Millisecond) // three pre-AUTH timeouts
	c.must("NOOP", 250)
}

func TestPreAuthTimeoutValidated(t *testing.T) {
	o := Options{Listeners: []Listener{{Name: "x", Addr: "127.0.0.1:0"}}, ReadTimeout: time.Minute, PreAuthTimeout: 2 * time.Minute}
	if _, err := New(o, newFakeUsers(t), testLogin(t, newFakeUsers(t), newFakeAttempts(), nil), newFakeForwarder(), discardLog()); err == nil ||
		!strings.Contains(err.Error(), "PreAuthTimeout 2m0s is longer than ReadTimeout 1m0s") {
		t.Errorf("New: %v", err)
	}
}

// A client that makes nothing but errors is sent away: its errors past
// MaxErrors get 421 and the connection is closed.
func TestErrorLimit(t *testing.T) {
	e := testServer(t, func(o *Options) { o.MaxErrors = 5 })
	c := dialRaw(t, e.addr(0))
	c.ehlo()
	for i := range 5 {
		if got := c.cmd("MAIL FROM:<rep@acme.fr>"); !strings.HasPrefix(got, "530 5.7.0 ") {
			t.Fatalf("MAIL %d without AUTH: %q", i+1, got)
		}
	}
	if got := c.cmd("MAIL FROM:<rep@acme.fr>"); got != "421 4.7.0 Too many errors, closing connection" {
		t.Errorf("sixth error got %q", got)
	}
	if line, err := c.r.ReadLine(); err != io.EOF {
		t.Errorf("after the error limit: %q, %v; want the connection closed", line, err)
	}
	waitFor(t, func() bool { return e.srv.conns.count() == 0 })
	if !strings.Contains(e.logs.String(), "too many errors; closing the connection") {
		t.Errorf("not logged:\n%s", e.logs.String())
	}
}

// The limit also holds for failed logins, over TLS too, where the
// connection sees only ciphertext.
func TestErrorLimitAuthTLS(t *testing.T) {
	e := testServer(t, withListeners(Listener{Name: "tls", Addr: "127.0.0.1:0", Mode: ModeImplicitTLS, TLS: testTLS(t)}),
		func(o *Options) { o.MaxErrors = 2 })
	c, err := smtp.DialTLS(e.addr(0), clientTLS(t))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for i := range 2 {
		if err := c.Auth(saslPlain(repEmail, "wrong")); err == nil {
			t.Fatalf("login %d with a wrong password succeeded", i+1)
		}
	}
	err = c.Auth(saslPlain(repEmail, "wrong"))
	if got := smtpErr(t, err, 421, smtp.EnhancedCode{4, 7, 0}); got != "Too many errors, closing connection" {
		t.Errorf("third failed login: %q", got)
	}
	if err := c.Noop(); err == nil {
		t.Error("connection still open after the error limit")
	}
}

// A delivered message wipes the slate, and a recipient refused by the
// check is no client error.
func TestErrorLimitForgives(t *testing.T) {
	chk := newTableCheck()
	chk.answers["jan@firma.be"] = onBEList
	e := testServer(t, func(o *Options) { o.MaxErrors = 2 }, withCheck(chk), withMode(Reject))
	c := e.login(t)
	c.must("RCPT TO:<a@example.com>", 502) // go-smtp's own reply: not counted
	c.must("MAIL FROM:<ceo@other.com>", 553)
	c.must("MAIL FROM:<ceo@other.com>", 553)
	c.must("MAIL FROM:<rep@acme.fr>", 250)
	for range 5 {
		c.must("RCPT TO:<jan@firma.be>", 550)
	}
	c.must("RCPT TO:<ok@firma.fr>", 250)
	c.must("DATA", 354)
	c.send(message(repEmail, "after errors") + ".\r\n")
	c.expect(250)
	for range 2 {
		c.must("MAIL FROM:<ceo@other.com>", 553)
	}
	if got := c.cmd("MAIL FROM:<ceo@other.com>"); !strings.HasPrefix(got, "421 4.7.0 ") {
		t.Errorf("third error after delivery got %q", got)
	}
}

// A connection's errors write at most errorLogLines lines; the rest are
// summed up in one when it ends.
func TestErrorLogThrottled(t *testing.T) {
	e := testServer(t, func(o *Options) { o.MaxErrors = 1000 })
	c := dialRaw(t, e.addr(0))
	c.ehlo()
	const n = errorLogLines + 30
	for range n {
		c.must("MAIL FROM:<rep@acme.fr>", 530)
	}
	c.must("QUIT", 221)
	want := fmt.Sprintf("suppressed=%d logged=%d", n-errorLogLines, errorLogLines)
	waitFor(t, func() bool { return strings.Contains(e.logs.String(), want) })
	if got := strings.Count(e.logs.String(), "reason=auth-required"); got != errorLogLines {
		t.Errorf("%d refusal lines logged for %d errors, want %d", got, n, errorLogLines)
	}
}
