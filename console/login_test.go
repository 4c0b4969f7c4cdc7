package console_test

import (
	"context"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/dncgate/dncgate/auth"
	"github.com/dncgate/dncgate/console"
	"github.com/dncgate/dncgate/ledger"
	"github.com/dncgate/dncgate/store"
)

// TestLoggedOutSeesOnlyLogin: every page but the login sends a stranger
// to the login, and a form posted without a session changes nothing.
func TestLoggedOutSeesOnlyLogin(t *testing.T) {
	e := newEnv(t)
	e.record(e.decision("REF1", rep, "jean@example.fr", time.Minute))
	b := e.browser()
	for _, path := range []string{console.HomePath, console.HomePath + "?rep=" + rep, console.ExportPath,
		console.TransactionPath + "REF1", console.ResetPath, console.TOTPPath, console.EnrolPath} {
		a := b.get(path)
		if a.Status != http.StatusSeeOther || !strings.HasPrefix(a.Header.Get("Location"), console.LoginPath+"?next=") {
			t.Errorf("GET %s logged out: %d to %q, want 303 to the login", path, a.Status, a.Header.Get("Location"))
		}
		if strings.Contains(a.Body, "j***") || strings.Contains(a.Body, "fr-bloctel") {
			t.Errorf("GET %s logged out shows a record", path)
		}
	}
	for _, path := range []string{console.LogoutPath, console.LogoutAllPath, console.ResetPath} {
		if a := b.post(path, url.Values{"email": {mgr}}); a.Status != http.StatusUnauthorized {
			t.Errorf("POST %s logged out: %d, want 401", path, a.Status)
		}
	}
	if ok, _ := e.st.SecondFactor(context.Background(), mgr); ok.Secret == "" {
		t.Fatalf("a logged-out post reset a second factor")
	}
	a := b.get(console.LoginPath)
	if a.Status != http.StatusOK || !strings.Contains(a.Body, `name="password"`) {
		t.Fatalf("login page: %d\n%s", a.Status, a.Body)
	}
}

// TestSecurityHeaders: the strict CSP and its companions on every page,
// and a session cookie that scripts cannot read and other sites cannot send.
func TestSecurityHeaders(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	for _, path := range []string{console.LoginPath, console.HomePath, "/console/nope"} {
		h := b.get(path).Header
		want := map[string]string{
			"Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
			"X-Frame-Options":         "DENY", "X-Content-Type-Options": "nosniff",
			"Referrer-Policy": "no-referrer", "Cache-Control": "no-store",
		}
		for k, v := range want {
			if got := h.Get(k); got != v {
				t.Errorf("GET %s: %s = %q, want %q", path, k, got, v)
			}
		}
	}
	b.get(console.LoginPath)
	a := b.post(console.LoginPath, url.Values{"email": {rep}, "password": {password}})
	var ck string
	for _, c := range a.Header.Values("Set-Cookie") {
		if strings.HasPrefix(c, "__Host-dncgate-console=") {
			ck = c
		}
	}
	for _, attr := range []string{"Path=/", "HttpOnly", "Secure", "SameSite=Strict"} {
		if !strings.Contains(ck, attr) {
			t.Errorf("session cookie %q lacks %s", ck, attr)
		}
	}
	if strings.Contains(ck, "Domain=") {
		t.Errorf("session cookie %q has a Domain", ck)
	}
}

// TestInsecureCookie: the loopback-only option drops Secure and the prefix.
func TestInsecureCookie(t *testing.T) {
	e := newEnv(t, func(o *console.Options) { o.Insecure = true })
	b := e.browser()
	b.logIn(rep)
	a := b.get(console.HomePath)
	if a.Status != http.StatusOK {
		t.Fatalf("log page over plain HTTP: %d", a.Status)
	}
}

func sessionCookie(b *browser) string {
	u, _ := url.Parse(b.e.srv.URL)
	for _, c := range b.c.Jar.Cookies(u) {
		if strings.HasSuffix(c.Name, "dncgate-console") {
			return c.Value
		}
	}
	return ""
}

// TestRepLogsInWithPassword: a rep without a second factor needs only
// the password; the session ID changes at login.
func TestRepLogsInWithPassword(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.logIn(rep)
	if !strings.Contains(b.last, rep) {
		t.Fatalf("the log page does not name the user")
	}
	events := e.audits(ledger.ActLogin)
	if len(events) != 1 || events[0].Object != rep || events[0].Reason != "password" {
		t.Fatalf("login audit = %+v", events)
	}
}

// TestLoginRotatesSession: the half-logged-in session of a manager is
// replaced at the code, so a cookie planted before the login is worthless.
func TestLoginRotatesSession(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.get(console.LoginPath)
	a := b.post(console.LoginPath, url.Values{"email": {mgr}, "password": {password}})
	if !strings.HasPrefix(a.Header.Get("Location"), console.TOTPPath) {
		t.Fatalf("manager's password went to %q, want the code page", a.Header.Get("Location"))
	}
	half := sessionCookie(b)
	if a := b.get(console.HomePath); a.Status != http.StatusSeeOther || !strings.HasPrefix(a.Header.Get("Location"), console.TOTPPath) {
		t.Fatalf("half-logged-in log page: %d %q, want the code page", a.Status, a.Header.Get("Location"))
	}
	b.get(console.TOTPPath)
	if a := b.post(console.TOTPPath, url.Values{"code": {e.code(0)}}); a.Status != http.StatusSeeOther {
		t.Fatalf("code: %d\n%s", a.Status, a.Body)
	}
	full := sessionCookie(b)
	if full == "" || full == half {
		t.Fatalf("session cookie not rotated at the code: %q then %q", half, full)
	}
	old := e.browser()
	u, _ := url.Parse(e.srv.URL)
	old.c.Jar.SetCookies(u, []*http.Cookie{{Name: "__Host-dncgate-console", Value: half, Path: "/", Secure: true}})
	if a := old.get(console.HomePath); a.Status != http.StatusSeeOther || !strings.HasPrefix(a.Header.Get("Location"), console.LoginPath) {
		t.Fatalf("the pre-code session still opens pages: %d %q", a.Status, a.Header.Get("Location"))
	}
}

// TestWrongPassword: refused, audited, and the same page again.
func TestWrongPassword(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.get(console.LoginPath)
	a := b.post(console.LoginPath, url.Values{"email": {rep}, "password": {"nope nope nope"}})
	if a.Status != http.StatusUnauthorized || !strings.Contains(a.Body, "Wrong e-mail address or password") {
		t.Fatalf("wrong password: %d\n%s", a.Status, a.Body)
	}
	if sessionCookie(b) != "" {
		t.Fatalf("a wrong password got a session")
	}
	ev := e.audits(ledger.ActLoginFailed)
	if len(ev) != 1 || ev[0].Object != rep || ev[0].Reason != "password" {
		t.Fatalf("failure audit = %+v", ev)
	}
}

// TestLockoutSharedWithSMTP: failures at the console lock the SMTP door
// (the same Authenticator's store counters, seen from another instance's
// Authenticator too), and failures at SMTP lock the console.
func TestLockoutSharedWithSMTP(t *testing.T) {
	eachStore(t, func(t *testing.T, st store.Store) {
		e := newEnvOn(t, st)
		b := e.browser()
		b.get(console.LoginPath)
		for range 10 {
			b.post(console.LoginPath, url.Values{"email": {rep}, "password": {"wrong password!"}})
		}
		client := netip.MustParseAddr("127.0.0.1") // the test client's address, as SMTP would see it
		smtp := newAuth(t, st)                     // another instance's, on the same store
		if r := smtp.Login(t.Context(), auth.Attempt{User: rep, Password: password, Client: client}); r.Outcome != auth.Locked {
			t.Fatalf("SMTP login after 10 console failures: %s, want locked", r.Outcome)
		}
		if a := b.post(console.LoginPath, url.Values{"email": {rep}, "password": {password}}); a.Status != http.StatusTooManyRequests {
			t.Fatalf("console login with the right password while locked: %d, want 429", a.Status)
		}

		for range 10 {
			smtp.Login(t.Context(), auth.Attempt{User: rep2, Password: "wrong password!", Client: client})
		}
		b2 := e.browser()
		b2.get(console.LoginPath)
		a := b2.post(console.LoginPath, url.Values{"email": {rep2}, "password": {password}})
		if a.Status != http.StatusTooManyRequests || a.Header.Get("Retry-After") == "" || !strings.Contains(a.Body, "Too many failed logins") {
			t.Fatalf("console login after 10 SMTP failures: %d, want 429 with Retry-After\n%s", a.Status, a.Body)
		}
	})
}

func (e *env) audits(a ledger.Action) []ledger.AuditEvent {
	e.t.Helper()
	ev, err := e.led.Audits(context.Background(), ledger.AuditQuery{Action: a})
	if err != nil {
		e.t.Fatal(err)
	}
	return ev
}
