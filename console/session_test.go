package console_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/dncgate/dncgate/console"
	"github.com/dncgate/dncgate/ledger"
	"github.com/dncgate/dncgate/store"
)

func loggedOut(t *testing.T, b *browser, when string) {
	t.Helper()
	a := b.get(console.HomePath)
	if a.Status != http.StatusSeeOther || !strings.HasPrefix(a.Header.Get("Location"), console.LoginPath) {
		t.Fatalf("%s: log page %d to %q, want the login", when, a.Status, a.Header.Get("Location"))
	}
}

func loggedIn(t *testing.T, b *browser, when string) {
	t.Helper()
	if a := b.get(console.HomePath); a.Status != http.StatusOK {
		t.Fatalf("%s: log page %d, want 200", when, a.Status)
	}
}

// TestIdleExpiry: a session used within the idle time lives on; one left
// longer ends.
func TestIdleExpiry(t *testing.T) {
	e := newEnv(t, func(o *console.Options) { o.Idle, o.Max = 30*time.Minute, 2*time.Hour })
	b := e.browser()
	b.logIn(rep)
	for i := range 3 {
		e.clock.Advance(29 * time.Minute)
		loggedIn(t, b, "29 minutes after the last request #"+string(rune('1'+i)))
	}
	e.clock.Advance(31 * time.Minute)
	loggedOut(t, b, "31 minutes idle")
}

// TestAbsoluteExpiry: a session ends session_max after its login, however
// busy.
func TestAbsoluteExpiry(t *testing.T) {
	e := newEnv(t, func(o *console.Options) { o.Idle, o.Max = 30*time.Minute, time.Hour })
	b := e.browser()
	b.logIn(rep)
	e.clock.Advance(25 * time.Minute)
	loggedIn(t, b, "25 minutes")
	e.clock.Advance(25 * time.Minute)
	loggedIn(t, b, "50 minutes")
	e.clock.Advance(11 * time.Minute)
	loggedOut(t, b, "61 minutes after the login")
}

// TestLogout: the session is gone from the store, not only the cookie.
func TestLogout(t *testing.T) {
	eachStore(t, func(t *testing.T, st store.Store) {
		e := newEnvOn(t, st)
		b := e.browser()
		b.logIn(rep)
		ck := sessionCookie(b)
		if a := b.post(console.LogoutPath, nil); a.Status != http.StatusSeeOther {
			t.Fatalf("logout: %d", a.Status)
		}
		loggedOut(t, b, "after logout")
		replay := e.browser()
		u, _ := url.Parse(e.srv.URL)
		replay.c.Jar.SetCookies(u, []*http.Cookie{{Name: "__Host-dncgate-console", Value: ck, Path: "/", Secure: true}})
		loggedOut(t, replay, "the old cookie after logout")
		if ev := e.audits(ledger.ActLogout); len(ev) != 1 || ev[0].Object != rep {
			t.Fatalf("logout audit = %+v", ev)
		}
	})
}

// TestLogoutEverywhere ends every session of the user, and only theirs.
func TestLogoutEverywhere(t *testing.T) {
	eachStore(t, func(t *testing.T, st store.Store) {
		e := newEnvOn(t, st)
		one, two, other := e.browser(), e.browser(), e.browser()
		one.logIn(rep)
		two.logIn(rep)
		other.logIn(rep2)
		if a := one.post(console.LogoutAllPath, nil); a.Status != http.StatusSeeOther {
			t.Fatalf("logout everywhere: %d", a.Status)
		}
		loggedOut(t, one, "the browser that logged out everywhere")
		loggedOut(t, two, "the user's other browser")
		loggedIn(t, other, "another user")
		ev := e.audits(ledger.ActLogoutAll)
		if len(ev) != 1 || ev[0].Details["sessions"] != "2" {
			t.Fatalf("logout-all audit = %+v", ev)
		}
	})
}

// TestCSRF: a form without the session's token, or with another
// session's, is refused and changes nothing.
func TestCSRF(t *testing.T) {
	e := newEnv(t)
	b, other := e.browser(), e.browser()
	b.logIn(rep)
	other.logIn(rep2)
	for name, tok := range map[string]string{"none": "", "another session's": other.csrf(), "forged": strings.Repeat("A", 43)} {
		if a := b.post(console.LogoutPath, url.Values{"csrf": {tok}}); a.Status != http.StatusForbidden {
			t.Errorf("logout with %s token: %d, want 403", name, a.Status)
		}
	}
	loggedIn(t, b, "after the refused logouts")
	// The login form has its own token before any session.
	fresh := e.browser()
	if a := fresh.post(console.LoginPath, url.Values{"email": {rep}, "password": {password}, "csrf": {""}}); a.Status != http.StatusForbidden || sessionCookie(fresh) != "" {
		t.Fatalf("login without the form's token: %d, want 403 and no session", a.Status)
	}
}

// TestDeletedUserLosesSession: a user removed from the store is logged
// out at the next request.
func TestDeletedUserLosesSession(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.logIn(rep)
	if err := e.st.DeleteUser(t.Context(), rep); err != nil {
		t.Fatal(err)
	}
	loggedOut(t, b, "after the user was removed")
}

// TestNextStaysOnTheConsole: the login goes back to the page asked for,
// never to another site.
func TestNextStaysOnTheConsole(t *testing.T) {
	e := newEnv(t)
	for next, want := range map[string]string{
		console.HomePath + "?verdict=refused": console.HomePath + "?verdict=refused",
		"https://evil.example/":               console.HomePath,
		"//evil.example/console/":             console.HomePath,
		"/console/\\evil":                     console.HomePath,
	} {
		b := e.browser()
		b.get(console.LoginPath)
		a := b.post(console.LoginPath, url.Values{"email": {rep}, "password": {password}, "next": {next}})
		if got := a.Header.Get("Location"); got != want {
			t.Errorf("next %q: went to %q, want %q", next, got, want)
		}
	}
}

// TestLanguage: French for a French browser or a chosen language, with
// the lang attribute to match.
func TestLanguage(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	req, _ := http.NewRequest(http.MethodGet, e.srv.URL+console.LoginPath, nil)
	req.Header.Set("Accept-Language", "fr-BE,fr;q=0.9,en;q=0.5")
	a := b.do(req)
	if !strings.Contains(a.Body, `<html lang="fr">`) || !strings.Contains(a.Body, "Mot de passe") || a.Header.Get("Content-Language") != "fr" {
		t.Fatalf("French browser got:\n%s", a.Body)
	}
	b.get(console.LanguagePath + "?to=fr&next=" + url.QueryEscape(console.LoginPath))
	if a := b.get(console.LoginPath); !strings.Contains(a.Body, `<html lang="fr">`) {
		t.Fatalf("chosen French not kept")
	}
	b.get(console.LanguagePath + "?to=en")
	if a := b.get(console.LoginPath); !strings.Contains(a.Body, `<html lang="en">`) || !strings.Contains(a.Body, "Password") {
		t.Fatalf("chosen English not kept")
	}
}

// TestLoginAgainFromTheCodePage: a manager who goes back from the code
// page to the login form can log in again (the form has its own token).
func TestLoginAgainFromTheCodePage(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.halfLogIn(mgr)
	b.get(console.LoginPath)
	a := b.post(console.LoginPath, url.Values{"email": {mgr}, "password": {password}})
	if a.Status != http.StatusSeeOther || !strings.HasPrefix(a.Header.Get("Location"), console.TOTPPath) {
		t.Fatalf("second password from a pending session: %d %q", a.Status, a.Header.Get("Location"))
	}
}
