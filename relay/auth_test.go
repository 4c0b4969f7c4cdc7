package relay

import (
	"encoding/base64"
	"errors"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
)

const authFailed = "535 5.7.8 Authentication credentials invalid"

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func TestAuthLogin(t *testing.T) {
	e := testServer(t)
	c := dialRaw(t, e.addr(0))
	c.ehlo()
	if got := c.cmd("AUTH LOGIN"); got != "334 "+b64("Username:") {
		t.Fatalf("AUTH LOGIN: %q", got)
	}
	if got := c.cmd(b64(repEmail)); got != "334 "+b64("Password:") {
		t.Fatalf("user name: %q", got)
	}
	c.must(b64(repPassword), 235)
	c.must("MAIL FROM:<rep@acme.fr>", 250)
}

func TestAuthLoginInitialResponse(t *testing.T) {
	e := testServer(t)
	c := dialRaw(t, e.addr(0))
	c.ehlo()
	if got := c.cmd("AUTH LOGIN " + b64(repEmail)); got != "334 "+b64("Password:") {
		t.Fatalf("AUTH LOGIN with user: %q", got)
	}
	if got := c.cmd(b64("wrong")); got != authFailed {
		t.Fatalf("got %q", got)
	}
}

// Wrong password and unknown user read alike, and refusing AUTH leaves the
// session unable to send.
func TestAuthFailureThenMail(t *testing.T) {
	e := testServer(t)
	c := dialRaw(t, e.addr(0))
	c.ehlo()
	if got := c.auth(repEmail, "Tr0ub4dor&3"); got != authFailed {
		t.Errorf("wrong password: %q", got)
	}
	if got := c.auth("nobody@acme.fr", "hunter2"); got != authFailed {
		t.Errorf("unknown user: %q", got)
	}
	if got := c.cmd("MAIL FROM:<rep@acme.fr>"); got != "530 5.7.0 Authentication required" {
		t.Errorf("MAIL after failed AUTH: %q", got)
	}
	logs := e.logs.String()
	if strings.Contains(logs, "Tr0ub4dor") || strings.Contains(logs, "hunter2") {
		t.Errorf("a password reached the log:\n%s", logs)
	}
	if !strings.Contains(logs, `msg="auth failed"`) {
		t.Errorf("no auth failure logged:\n%s", logs)
	}
}

func TestAuthGoClientPlain(t *testing.T) {
	e := testServer(t)
	c := goClient(t, e.addr(0))
	if ok, mechs := c.Extension("AUTH"); !ok || mechs != "PLAIN LOGIN" {
		t.Fatalf("AUTH advertised as %v %q on loopback", ok, mechs)
	}
	err := c.Auth(sasl.NewPlainClient("", repEmail, "bad"))
	smtpErr(t, err, 535, [3]int{5, 7, 8})
}

func TestAuthAuthzidRefused(t *testing.T) {
	e := testServer(t)
	c := dialRaw(t, e.addr(0))
	c.ehlo()
	got := c.cmd("AUTH PLAIN " + b64("boss@acme.fr\x00"+repEmail+"\x00"+repPassword))
	if got != authFailed {
		t.Errorf("acting as another user: %q", got)
	}
}

func TestAuthStoreDown(t *testing.T) {
	e := testServer(t)
	e.users.err = errors.New("store unreachable")
	c := dialRaw(t, e.addr(0))
	c.ehlo()
	if got := c.auth(repEmail, repPassword); got != "454 4.7.0 Temporary authentication failure" {
		t.Errorf("got %q", got)
	}
	if n := e.attempts.get("auth:client:127.0.0.1/32"); n != 0 {
		t.Errorf("a store failure counted as %d auth failures", n)
	}
}

// RFC 4954 §4: no AUTH inside a transaction (reachable from a trusted
// network, where MAIL needs no AUTH).
func TestAuthDuringTransaction(t *testing.T) {
	e := testServer(t, withTrusted("127.0.0.0/8", botEmail))
	c := dialRaw(t, e.addr(0))
	c.ehlo()
	c.must("MAIL FROM:<crm@acme.fr>", 250)
	if got := c.auth(repEmail, repPassword); got != "503 5.5.1 AUTH not permitted during a mail transaction" {
		t.Errorf("got %q", got)
	}
	// Mid-BDAT the message is being read: AUTH must answer, not wait.
	c.must("RCPT TO:<a@example.com>", 250)
	c.send("BDAT 5\r\nFrom:")
	c.expect(250)
	if got := c.auth(repEmail, repPassword); !strings.HasPrefix(got, "503 5.5.1") {
		t.Errorf("AUTH during BDAT: %q", got)
	}
	c.must("RSET", 250)
	c.must("AUTH PLAIN "+b64("\x00"+repEmail+"\x00"+repPassword), 235)
}

func TestAuthGate(t *testing.T) {
	remote := netip.MustParseAddr("203.0.113.7")
	loop := netip.MustParseAddr("127.0.0.1")
	loop6 := netip.MustParseAddr("::1")
	mapped := netip.MustParseAddr("::ffff:127.0.0.1")
	tests := []struct {
		name     string
		mode     TLSMode
		secure   bool
		insecure bool
		peer     netip.Addr
		want     gate
	}{
		{"remote plain", ModePlain, false, false, remote, gateNeedEncryption},
		{"remote plain, insecure allowed", ModePlain, false, true, remote, gateOpen},
		{"remote after STARTTLS", ModePlain, true, false, remote, gateOpen},
		{"loopback plain", ModePlain, false, false, loop, gateOpen},
		{"loopback v6", ModePlain, false, false, loop6, gateOpen},
		{"loopback mapped", ModePlain, false, false, mapped, gateOpen},
		{"starttls listener before TLS, even loopback", ModeStartTLS, false, false, loop, gateStartTLSFirst},
		{"starttls listener after TLS", ModeStartTLS, true, false, remote, gateOpen},
		{"implicit TLS", ModeImplicitTLS, true, false, remote, gateOpen},
	}
	for _, tt := range tests {
		if got := authGate(tt.mode, tt.secure, tt.insecure, tt.peer); got != tt.want {
			t.Errorf("%s: got %v, want %v", tt.name, got, tt.want)
		}
	}
	if err := gateNeedEncryption.err(); !strings.Contains(err.Error(), "538 5.7.11") {
		t.Errorf("need encryption: %v", err)
	}
}

// After SlowAfter failures every reply waits, more each time; at
// BlockAfter even the right password gets 454 until the window ends.
func TestAuthThrottle(t *testing.T) {
	e := testServer(t) // SlowAfter 2, BlockAfter 4, MaxDelay 4s, Window 1h
	c := dialRaw(t, e.addr(0))
	c.ehlo()
	for i := range 4 {
		if got := c.auth(repEmail, "guess"); got != authFailed {
			t.Fatalf("failure %d: %q", i+1, got)
		}
	}
	if want := []time.Duration{time.Second, 2 * time.Second}; !slices.Equal(e.waits.got(), want) {
		t.Errorf("delays %v, want %v", e.waits.got(), want)
	}
	const blocked = "454 4.7.0 Too many authentication failures, try later"
	if got := c.auth(repEmail, repPassword); got != blocked {
		t.Fatalf("right password while blocked: %q", got)
	}
	if n := e.attempts.get("auth:pair:127.0.0.1/32|" + repEmail); n != 4 {
		t.Errorf("failures of the user from this client %d, want 4", n)
	}
	if !strings.Contains(e.logs.String(), "reason=locked") {
		t.Errorf("blocked attempt not logged")
	}
	e.attempts.advance(time.Hour)
	if got := c.auth(repEmail, repPassword); !strings.HasPrefix(got, "235 ") {
		t.Fatalf("after the window: %q", got)
	}
}

// A success forgets the failures of the user from this client, not those
// of the address or of the name.
func TestAuthSuccessResetsPair(t *testing.T) {
	e := testServer(t)
	c := dialRaw(t, e.addr(0))
	c.ehlo()
	c.auth(repEmail, "guess")
	if got := c.auth(repEmail, repPassword); !strings.HasPrefix(got, "235 ") {
		t.Fatalf("AUTH: %q", got)
	}
	if n := e.attempts.get("auth:pair:127.0.0.1/32|" + repEmail); n != 0 {
		t.Errorf("pair count %d after success", n)
	}
	if n, m := e.attempts.get("auth:client:127.0.0.1/32"), e.attempts.get("auth:user:"+repEmail); n != 1 || m != 1 {
		t.Errorf("address count %d, name count %d, want 1 each", n, m)
	}
}

// TestAuthDisabledUser: a disabled user's right password gets the reply a
// wrong one gets (no oracle for a guesser), and the log says why.
func TestAuthDisabledUser(t *testing.T) {
	e := testServer(t)
	e.users.disable(repEmail)
	c := dialRaw(t, e.addr(0))
	c.ehlo()
	if got := c.auth(repEmail, repPassword); got != authFailed {
		t.Errorf("disabled user, right password: %q, want %q", got, authFailed)
	}
	if got := c.cmd("MAIL FROM:<rep@acme.fr>"); got != "530 5.7.0 Authentication required" {
		t.Errorf("MAIL after the refused AUTH: %q", got)
	}
	if !strings.Contains(e.logs.String(), "user is disabled") {
		t.Errorf("the log does not say the user is disabled:\n%s", e.logs.String())
	}
}

// TestDisabledWhileConnected: a user disabled after their AUTH sends no
// further message on the open connection, once the identity cache's
// second has passed.
func TestDisabledWhileConnected(t *testing.T) {
	var mu sync.Mutex
	now := time.Now()
	e := testServer(t, func(o *Options) {
		o.Now = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	})
	c := e.login(t)
	c.must("MAIL FROM:<rep@acme.fr>", 250)
	c.must("RSET", 250)
	e.users.disable(repEmail)
	mu.Lock()
	now = now.Add(identityTTL)
	mu.Unlock()
	if got := c.cmd("MAIL FROM:<rep@acme.fr>"); got != "530 5.7.0 Authentication required" {
		t.Fatalf("MAIL after the user was disabled: %q", got)
	}
}
