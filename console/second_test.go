package console_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/dncgate/dncgate/console"
	"github.com/dncgate/dncgate/ledger"
	"github.com/dncgate/dncgate/store"
)

// halfLogIn gives the manager's password and stops at the code page.
func (b *browser) halfLogIn(user string) {
	b.e.t.Helper()
	b.get(console.LoginPath)
	a := b.post(console.LoginPath, url.Values{"email": {user}, "password": {password}})
	if a.Status != http.StatusSeeOther {
		b.e.t.Fatalf("password of %s: %d", user, a.Status)
	}
	b.get(a.Header.Get("Location"))
}

// TestCodes: a wrong code, one from five minutes ago and one already used
// (by another browser, on any store) are refused; the current one and
// the one of the step before (clock drift) are accepted.
func TestCodes(t *testing.T) {
	eachStore(t, func(t *testing.T, st store.Store) {
		e := newEnvOn(t, st)
		for _, c := range []struct {
			name, code string
		}{
			{"wrong", wrongCode(e.code(0))},
			{"expired", e.code(-5 * time.Minute)},
			{"future", e.code(5 * time.Minute)},
			{"letters", "abcdef"},
		} {
			b := e.browser()
			b.halfLogIn(mgr)
			a := b.post(console.TOTPPath, url.Values{"code": {c.code}})
			if a.Status != http.StatusUnauthorized || !strings.Contains(a.Body, "wrong, expired or already used") {
				t.Errorf("%s code: %d, want 401", c.name, a.Status)
			}
			if a := b.get(console.HomePath); a.Status == http.StatusOK {
				t.Errorf("%s code opened the log page", c.name)
			}
		}
		first := e.browser()
		first.halfLogIn(mgr)
		code := e.code(-30 * time.Second) // the step before: accepted once
		if a := first.post(console.TOTPPath, url.Values{"code": {code}}); a.Status != http.StatusSeeOther {
			t.Fatalf("the previous step's code: %d, want 303", a.Status)
		}
		second := e.browser()
		second.halfLogIn(mgr)
		if a := second.post(console.TOTPPath, url.Values{"code": {code}}); a.Status != http.StatusUnauthorized {
			t.Fatalf("a replayed code: %d, want 401", a.Status)
		}
		if n := len(e.audits(ledger.ActLoginFailed)); n != 5 {
			t.Errorf("%d code failures audited, want 5", n)
		}
	})
}

func wrongCode(c string) string {
	b := []byte(c)
	b[0] = '0' + (b[0]-'0'+1)%10
	return string(b)
}

var (
	secretRE   = regexp.MustCompile(`<code id="secret">([A-Z2-7]+)</code>`)
	recoveryRE = regexp.MustCompile(`<li><code>([A-Z0-9]{5}-[A-Z0-9]{5})</code></li>`)
)

// TestEnrolment: a manager without a second factor must set one up
// before any page; the QR code is an inline PNG, the recovery codes are
// shown once and each logs in once.
func TestEnrolment(t *testing.T) {
	e := newEnv(t)
	e.addUser(store.User{Email: "new@acme.example", Role: store.RoleManager})
	b := e.browser()
	b.get(console.LoginPath)
	a := b.post(console.LoginPath, url.Values{"email": {"new@acme.example"}, "password": {password}})
	if !strings.HasPrefix(a.Header.Get("Location"), console.EnrolPath) {
		t.Fatalf("unenrolled manager sent to %q, want the enrolment", a.Header.Get("Location"))
	}
	a = b.get(console.EnrolPath)
	if !strings.Contains(a.Body, `src="data:image/png;base64,`) {
		t.Fatalf("no inline QR code on the enrolment page:\n%s", a.Body)
	}
	m := secretRE.FindStringSubmatch(a.Body)
	if m == nil {
		t.Fatalf("no secret on the enrolment page")
	}
	if a := b.get(console.HomePath); a.Status != http.StatusSeeOther {
		t.Fatalf("log page before enrolling: %d", a.Status)
	}
	b.get(console.EnrolPath)
	m = secretRE.FindStringSubmatch(b.last)
	code := codeFor(t, m[1], e.clock.Now())
	a = b.post(console.EnrolPath, url.Values{"secret": {m[1]}, "code": {code}, "next": {console.HomePath}})
	codes := recoveryRE.FindAllStringSubmatch(a.Body, -1)
	if a.Status != http.StatusOK || len(codes) != 8 {
		t.Fatalf("enrolment: %d, %d recovery codes\n%s", a.Status, len(codes), a.Body)
	}
	if a := b.get(console.HomePath); a.Status != http.StatusOK {
		t.Fatalf("log page after enrolling: %d", a.Status)
	}
	f, err := e.st.SecondFactor(context.Background(), "new@acme.example")
	if err != nil || f.Secret != m[1] || len(f.Recovery) != 8 {
		t.Fatalf("stored factor = %+v, %v", f, err)
	}
	for _, d := range f.Recovery {
		for _, c := range codes {
			if strings.Contains(d, c[1]) || strings.Contains(d, strings.ReplaceAll(c[1], "-", "")) {
				t.Fatalf("a recovery code is stored as itself")
			}
		}
	}
	if ev := e.audits(ledger.ActTOTPEnrol); len(ev) != 1 || ev[0].Object != "new@acme.example" {
		t.Fatalf("enrolment audit = %+v", ev)
	}
	// A recovery code, typed in lower case, logs in once.
	rc := strings.ToLower(codes[0][1])
	for i, want := range []int{http.StatusSeeOther, http.StatusUnauthorized} {
		r := e.browser()
		r.halfLogIn("new@acme.example")
		if a := r.post(console.TOTPPath, url.Values{"code": {rc}}); a.Status != want {
			t.Fatalf("recovery code use %d: %d, want %d", i+1, a.Status, want)
		}
	}
}

// TestEnrolWrongCode: a code that does not match the new secret keeps
// nothing.
func TestEnrolWrongCode(t *testing.T) {
	e := newEnv(t)
	e.addUser(store.User{Email: "new@acme.example", Role: store.RoleAdmin})
	b := e.browser()
	b.halfLogIn("new@acme.example")
	m := secretRE.FindStringSubmatch(b.last)
	if m == nil {
		t.Fatalf("no secret:\n%s", b.last)
	}
	a := b.post(console.EnrolPath, url.Values{"secret": {m[1]}, "code": {wrongCode(codeFor(t, m[1], e.clock.Now()))}})
	if a.Status != http.StatusUnauthorized {
		t.Fatalf("wrong enrolment code: %d", a.Status)
	}
	if _, err := e.st.SecondFactor(context.Background(), "new@acme.example"); err == nil {
		t.Fatalf("a wrong code enrolled the secret")
	}
}

// TestRepWithFactorUsesIt: a rep who enrolled is asked for the code too.
func TestRepWithFactorUsesIt(t *testing.T) {
	e := newEnv(t)
	e.enrol(rep)
	b := e.browser()
	b.get(console.LoginPath)
	a := b.post(console.LoginPath, url.Values{"email": {rep}, "password": {password}})
	if !strings.HasPrefix(a.Header.Get("Location"), console.TOTPPath) {
		t.Fatalf("enrolled rep sent to %q, want the code page", a.Header.Get("Location"))
	}
}

// TestNoSecondFactorRefusesManagers: a console without second factors
// lets reps in and refuses managers, whose role needs one.
func TestNoSecondFactorRefusesManagers(t *testing.T) {
	e := newEnv(t, func(o *console.Options) { o.Second = nil })
	e.browser().logIn(rep)
	b := e.browser()
	b.get(console.LoginPath)
	if a := b.post(console.LoginPath, url.Values{"email": {mgr}, "password": {password}}); a.Status != http.StatusForbidden || sessionCookie(b) != "" {
		t.Fatalf("manager without second factors: %d, cookie %q; want 403 and none", a.Status, sessionCookie(b))
	}
}

// TestAdminResetsFactor: the reset ends the user's sessions and the next
// login asks for an enrolment; a manager cannot reach the reset.
func TestAdminResetsFactor(t *testing.T) {
	e := newEnv(t)
	victim := e.browser()
	victim.logIn(mgr)
	e.clock.Advance(30 * time.Second) // a code's step is used once
	m := e.browser()
	m.logIn(mgr)
	if a := m.get(console.ResetPath); a.Status != http.StatusForbidden {
		t.Fatalf("manager GET reset page: %d, want 403", a.Status)
	}
	if a := m.post(console.ResetPath, url.Values{"email": {admin}}); a.Status != http.StatusForbidden {
		t.Fatalf("manager POST reset: %d, want 403", a.Status)
	}
	if _, err := e.st.SecondFactor(context.Background(), admin); err != nil {
		t.Fatalf("a manager's post reset the admin's factor: %v", err)
	}
	ad := e.browser()
	e.clock.Advance(30 * time.Second)
	ad.logIn(admin)
	ad.get(console.ResetPath)
	if a := ad.post(console.ResetPath, url.Values{"email": {mgr}}); a.Status != http.StatusSeeOther {
		t.Fatalf("admin reset: %d\n%s", a.Status, a.Body)
	}
	if a := victim.get(console.HomePath); a.Status != http.StatusSeeOther {
		t.Fatalf("the reset user's session lives on: %d", a.Status)
	}
	b := e.browser()
	b.get(console.LoginPath)
	if a := b.post(console.LoginPath, url.Values{"email": {mgr}, "password": {password}}); !strings.HasPrefix(a.Header.Get("Location"), console.EnrolPath) {
		t.Fatalf("login after reset went to %q, want the enrolment", a.Header.Get("Location"))
	}
	if ev := e.audits(ledger.ActTOTPReset); len(ev) != 1 || ev[0].Object != mgr || ev[0].Actor != admin {
		t.Fatalf("reset audit = %+v", ev)
	}
}

// TestRepEnrolsOwnFactor: a rep sets up a second factor from their
// account page, is asked for it at the next login, and cannot replace it.
func TestRepEnrolsOwnFactor(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.logIn(rep)
	a := b.get(console.AccountPath)
	m := secretRE.FindStringSubmatch(a.Body)
	if a.Status != http.StatusOK || m == nil || !strings.Contains(a.Body, `action="/console/account"`) {
		t.Fatalf("account page: %d\n%s", a.Status, a.Body)
	}
	a = b.post(console.AccountPath, url.Values{"secret": {m[1]}, "code": {codeFor(t, m[1], e.clock.Now())}})
	if a.Status != http.StatusOK || len(recoveryRE.FindAllString(a.Body, -1)) != 8 {
		t.Fatalf("rep enrolment: %d\n%s", a.Status, a.Body)
	}
	loggedIn(t, b, "after enrolling")
	if a := b.get(console.AccountPath); !strings.Contains(a.Body, "You have a second factor") || secretRE.MatchString(a.Body) {
		t.Fatalf("account page of an enrolled rep:\n%s", a.Body)
	}
	if a := b.post(console.AccountPath, url.Values{"secret": {secret}, "code": {e.code(0)}}); a.Status != http.StatusConflict {
		t.Fatalf("replacing a second factor: %d, want 409", a.Status)
	}
	if f, _ := e.st.SecondFactor(t.Context(), rep); f.Secret != m[1] {
		t.Fatalf("the rep's factor was replaced")
	}
	n := e.browser()
	n.get(console.LoginPath)
	if a := n.post(console.LoginPath, url.Values{"email": {rep}, "password": {password}}); !strings.HasPrefix(a.Header.Get("Location"), console.TOTPPath) {
		t.Fatalf("enrolled rep's next login went to %q", a.Header.Get("Location"))
	}
}

// TestTooManyWrongCodes: after five wrong codes even the right one is not
// checked, and the half-done login ends.
func TestTooManyWrongCodes(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.halfLogIn(mgr)
	for i := range 5 {
		if a := b.post(console.TOTPPath, url.Values{"code": {wrongCode(e.code(0))}}); a.Status != http.StatusUnauthorized {
			t.Fatalf("wrong code %d: %d", i+1, a.Status)
		}
	}
	a := b.post(console.TOTPPath, url.Values{"code": {e.code(0)}})
	if a.Status != http.StatusTooManyRequests || !strings.Contains(a.Body, "Too many wrong codes") {
		t.Fatalf("right code after five wrong ones: %d\n%s", a.Status, a.Body)
	}
	loggedOut(t, b, "after too many codes")
	other := e.browser()
	other.halfLogIn(mgr)
	if a := other.post(console.TOTPPath, url.Values{"code": {e.code(0)}}); a.Status != http.StatusTooManyRequests {
		t.Fatalf("right code from a new login, within the window: %d, want 429", a.Status)
	}
}
