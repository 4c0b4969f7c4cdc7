package relay

import (
	"crypto/tls"
	"crypto/x509"
	"strings"
	"testing"

	"github.com/dncgate/dncgate/internal/testcert"
)

func plainListener(t *testing.T) Listener {
	return Listener{Name: "plain", Addr: "127.0.0.1:0", TLS: testTLS(t)}
}

// A session open across a reload keeps the limit it began with; the next
// session gets the new one.
func TestReloadNewSessionsOnly(t *testing.T) {
	e := testServer(t)
	old := e.login(t)
	if err := e.srv.Reload(Options{Hostname: "relay.test", Listeners: []Listener{plainListener(t)}, MaxRecipients: 1}); err != nil {
		t.Fatal(err)
	}
	old.must("MAIL FROM:<"+repEmail+">", 250)
	old.must("RCPT TO:<a@example.com>", 250)
	old.must("RCPT TO:<b@example.com>", 250)
	old.must("RSET", 250)

	c := e.login(t)
	c.must("MAIL FROM:<"+repEmail+">", 250)
	c.must("RCPT TO:<a@example.com>", 250)
	if got := c.cmd("RCPT TO:<b@example.com>"); !strings.Contains(got, "Too many recipients, at most 1") {
		t.Errorf("second RCPT after the reload: %q", got)
	}
}

// A listener's new certificate is served from the next handshake on,
// without closing the socket.
func TestReloadCertificate(t *testing.T) {
	e := testServer(t, withListeners(Listener{Name: "tls", Addr: "127.0.0.1:0", Mode: ModeImplicitTLS, TLS: testTLS(t)}))
	before := leafOf(t, e.addr(0), clientTLS(t))
	renewed := testcert.New(t, "relay.test")
	o := Options{Hostname: "relay.test", Listeners: []Listener{{Name: "tls", Addr: "127.0.0.1:0", Mode: ModeImplicitTLS, TLS: renewed.ServerTLS()}}}
	if err := e.srv.Reload(o); err != nil {
		t.Fatal(err)
	}
	after := leafOf(t, e.addr(0), renewed.ClientTLS("127.0.0.1"))
	if before.Equal(after) {
		t.Fatal("the same certificate is served after the reload")
	}
	if conn, err := tls.Dial("tcp", e.addr(0), clientTLS(t)); err == nil {
		conn.Close()
		t.Error("a client trusting only the old authority still connects")
	}
}

func leafOf(t *testing.T, addr string, cfg *tls.Config) *x509.Certificate {
	t.Helper()
	conn, err := tls.Dial("tcp", addr, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	return conn.ConnectionState().PeerCertificates[0]
}

// Options the running sockets cannot take are refused whole: nothing
// changes.
func TestReloadRefused(t *testing.T) {
	e := testServer(t)
	for name, o := range map[string]Options{
		"listener count": {Listeners: []Listener{plainListener(t), plainListener(t)}, MaxRecipients: 1},
		"TLS off":        {Listeners: []Listener{{Name: "plain", Addr: "127.0.0.1:0"}}, MaxRecipients: 1},
		"invalid":        {Listeners: []Listener{plainListener(t)}, MaxRecipients: -1},
	} {
		if err := e.srv.Reload(o); err == nil {
			t.Errorf("%s: reload accepted", name)
		}
	}
	c := e.login(t)
	c.must("MAIL FROM:<"+repEmail+">", 250)
	c.must("RCPT TO:<a@example.com>", 250)
	c.must("RCPT TO:<b@example.com>", 250)
}
