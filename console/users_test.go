package console_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/dncgate/dncgate/auth"
	"github.com/dncgate/dncgate/console"
	"github.com/dncgate/dncgate/ledger"
	"github.com/dncgate/dncgate/store"
)

// withAccounts turns the users pages on, on the env's store, with cheap
// hashes.
func withAccounts() envOption {
	return func(o *console.Options) {
		o.Accounts, o.PasswordCost = o.Users.(console.AccountStore), bcrypt.MinCost
	}
}

func newUsersEnv(t *testing.T) *env {
	return newEnv(t, withAccounts())
}

// userChanges are the user-change events of the audit trail, as "actor
// object change", sorted (the console's clock stands still, so their
// times tie).
func (e *env) userChanges() []string {
	e.t.Helper()
	var out []string
	evs := e.audits(ledger.ActUserChange)
	for i := len(evs) - 1; i >= 0; i-- {
		ev := evs[i]
		if ev.Source != ledger.SourceConsole {
			e.t.Errorf("user change from source %q", ev.Source)
		}
		out = append(out, ev.Actor+" "+ev.Object+" "+ev.Details["change"])
	}
	slices.Sort(out)
	return out
}

func (e *env) user(email string) store.User {
	e.t.Helper()
	u, err := e.st.User(context.Background(), email)
	if err != nil {
		e.t.Fatal(err)
	}
	return u
}

// TestUsersPageIsAdminOnly: reps and managers get 403 on every users
// page and form, and see no menu entry; an admin sees both. Without
// accounts the pages do not exist.
func TestUsersPageIsAdminOnly(t *testing.T) {
	e := newUsersEnv(t)
	for _, who := range []string{rep, mgr} {
		b := e.browser()
		b.logIn(who)
		if strings.Contains(b.last, `href="/console/users"`) {
			t.Errorf("%s has the users page in the menu", who)
		}
		if a := b.get(console.UsersPath); a.Status != http.StatusForbidden {
			t.Errorf("%s GET users: %d, want 403", who, a.Status)
		}
		if a := b.get(console.UserPath + "?email=" + url.QueryEscape(admin)); a.Status != http.StatusForbidden {
			t.Errorf("%s GET a user: %d, want 403", who, a.Status)
		}
		b.get(console.HomePath)
		for _, p := range []string{console.UsersPath, console.UserUpdatePath, console.UserDisablePath, console.UserEnablePath, console.UserPasswordPath} {
			form := url.Values{"email": {admin}, "role": {"rep"}, "send_as": {"x@acme.example"}, "generate": {"yes"}}
			if a := b.post(p, form); a.Status != http.StatusForbidden {
				t.Errorf("%s POST %s: %d, want 403", who, p, a.Status)
			}
		}
	}
	if u := e.user(admin); u.Role != store.RoleAdmin || u.Disabled {
		t.Fatalf("refused posts changed the admin: %+v", u)
	}
	if n := len(e.userChanges()); n != 0 {
		t.Fatalf("%d user changes audited after refusals", n)
	}
	b := e.browser()
	b.logIn(admin)
	if !strings.Contains(b.last, `href="/console/users"`) {
		t.Errorf("the admin's menu has no users page")
	}
	a := b.get(console.UsersPath)
	if a.Status != http.StatusOK || !strings.Contains(a.Body, `<caption>`) || strings.Count(a.Body, `<th scope="row"`) != 4 {
		t.Fatalf("users page: %d\n%s", a.Status, a.Body)
	}
	plain := newEnv(t)
	pb := plain.browser()
	pb.logIn(admin)
	if a := pb.get(console.UsersPath); a.Status != http.StatusNotFound {
		t.Fatalf("users page without accounts: %d, want 404", a.Status)
	}
}

var generatedRE = regexp.MustCompile(`<code id="generated-password">([^<]+)</code>`)

// TestUsersAdd: a user added with a typed password or a generated one
// (shown once) is stored with a bcrypt hash at the console's cost and
// audited with the admin as actor; refused fields are named and nothing
// is stored.
func TestUsersAdd(t *testing.T) {
	e := newUsersEnv(t)
	b := e.browser()
	b.logIn(admin)
	b.get(console.UsersPath)
	a := b.post(console.UsersPath, url.Values{"email": {"New@Acme.example"}, "role": {"manager"}, "send_as": {"new@acme.example, @Sales.acme.example"},
		"generate": {"no"}, "password": {"a typed password"}})
	if a.Status != http.StatusOK || !strings.Contains(a.Body, "new@acme.example is added") || generatedRE.MatchString(a.Body) {
		t.Fatalf("add with a typed password: %d\n%s", a.Status, a.Body)
	}
	u := e.user("new@acme.example")
	if u.Role != store.RoleManager || strings.Join(u.SendAs, " ") != "new@acme.example @sales.acme.example" ||
		bcrypt.CompareHashAndPassword(u.PasswordHash, []byte("a typed password")) != nil {
		t.Fatalf("stored user %+v", u)
	}
	if c, _ := bcrypt.Cost(u.PasswordHash); c != bcrypt.MinCost {
		t.Errorf("cost %d, want the console's %d", c, bcrypt.MinCost)
	}
	a = b.post(console.UsersPath, url.Values{"email": {"gen@acme.example"}, "role": {"rep"}, "generate": {"yes"}})
	m := generatedRE.FindStringSubmatch(a.Body)
	if a.Status != http.StatusOK || m == nil {
		t.Fatalf("add with a generated password: %d\n%s", a.Status, a.Body)
	}
	g := e.user("gen@acme.example")
	if bcrypt.CompareHashAndPassword(g.PasswordHash, []byte(m[1])) != nil || strings.Join(g.SendAs, " ") != "gen@acme.example" {
		t.Fatalf("generated user %+v does not verify the password shown", g)
	}
	if a := b.get(console.UsersPath); strings.Contains(a.Body, m[1]) {
		t.Fatalf("the generated password is shown again")
	}
	for _, c := range []struct {
		name   string
		form   url.Values
		status int
		field  string
		text   string
	}{
		{"bad email", url.Values{"email": {"not-an-address"}, "role": {"rep"}, "generate": {"yes"}}, 400, "u-email", "is not an e-mail address"},
		{"unknown role", url.Values{"email": {"x@acme.example"}, "role": {"boss"}, "generate": {"yes"}}, 400, "u-role", "is not a role"},
		{"bad send-as", url.Values{"email": {"x@acme.example"}, "role": {"rep"}, "send_as": {"ok@acme.example @bad_domain"}, "generate": {"yes"}}, 400, "u-sendas", "@bad_domain"},
		{"short password", url.Values{"email": {"x@acme.example"}, "role": {"rep"}, "generate": {"no"}, "password": {"short"}}, 400, "u-password", "between 10 characters"},
		{"taken", url.Values{"email": {"REP@acme.example"}, "role": {"rep"}, "generate": {"yes"}}, 409, "u-email", "already a user"},
	} {
		b.get(console.UsersPath)
		a := b.post(console.UsersPath, c.form)
		if a.Status != c.status || !strings.Contains(a.Body, c.text) || !regexp.MustCompile(`id="`+c.field+`"[^>]*aria-invalid="true"`).MatchString(a.Body) {
			t.Errorf("%s: %d, want %d naming %s with %q\n%s", c.name, a.Status, c.status, c.field, c.text, a.Body)
		}
	}
	if _, err := e.st.User(t.Context(), "x@acme.example"); err == nil {
		t.Fatalf("a refused user was stored")
	}
	if u := e.user(rep); u.Role != store.RoleRep {
		t.Fatalf("a refused add changed the existing user: %+v", u)
	}
	want := []string{admin + " gen@acme.example add", admin + " new@acme.example add"}
	if got := e.userChanges(); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("audit %q, want %q", got, want)
	}
}

// TestUsersChange: role and send-as changes, disabling and enabling are
// stored and audited; a disabled rep's open session ends and their login
// is refused as a wrong password; the only enabled admin cannot disable or
// demote themselves; bad values are refused naming the field.
func TestUsersChange(t *testing.T) {
	e := newUsersEnv(t)
	b := e.browser()
	b.logIn(admin)
	repB := e.browser()
	repB.logIn(rep)
	page := console.UserPath + "?email=" + url.QueryEscape(rep)
	b.get(page)
	a := b.post(console.UserUpdatePath, url.Values{"email": {rep}, "role": {"manager"}, "send_as": {"rep@acme.example @ACME.example"}})
	if a.Status != http.StatusSeeOther || !strings.HasPrefix(a.Header.Get("Location"), console.UserPath+"?done=updated") {
		t.Fatalf("update: %d to %q", a.Status, a.Header.Get("Location"))
	}
	if a := b.get(a.Header.Get("Location")); !strings.Contains(a.Body, "are saved") {
		t.Fatalf("no notice after the update:\n%s", a.Body)
	}
	if u := e.user(rep); u.Role != store.RoleManager || strings.Join(u.SendAs, " ") != "rep@acme.example @acme.example" {
		t.Fatalf("updated user %+v", u)
	}
	for name, form := range map[string]url.Values{
		"unknown role":  {"email": {rep}, "role": {"boss"}, "send_as": {"rep@acme.example"}},
		"bad send-as":   {"email": {rep}, "role": {"rep"}, "send_as": {"rep@acme.example, not an address"}},
		"empty send-as": {"email": {rep}, "role": {"rep"}, "send_as": {" , "}},
	} {
		b.get(page)
		if a := b.post(console.UserUpdatePath, form); a.Status != http.StatusBadRequest || !strings.Contains(a.Body, `aria-invalid="true"`) {
			t.Errorf("%s: %d, want 400 naming the field", name, a.Status)
		}
	}
	if u := e.user(rep); u.Role != store.RoleManager || len(u.SendAs) != 2 {
		t.Fatalf("a refused update changed the user: %+v", u)
	}
	b.get(page)
	if a := b.post(console.UserUpdatePath, url.Values{"email": {rep}, "role": {"rep"}, "send_as": {"rep@acme.example"}}); a.Status != http.StatusSeeOther {
		t.Fatalf("update back: %d", a.Status)
	}

	b.get(page)
	if a := b.post(console.UserDisablePath, url.Values{"email": {rep}}); a.Status != http.StatusSeeOther {
		t.Fatalf("disable: %d\n%s", a.Status, a.Body)
	}
	if u := e.user(rep); !u.Disabled || u.DisabledBy != admin || !u.DisabledAt.Equal(e.clock.Now()) {
		t.Fatalf("disabled user %+v", u)
	}
	loggedOut(t, repB, "after the rep was disabled")
	again := e.browser()
	again.get(console.LoginPath)
	if a := again.post(console.LoginPath, url.Values{"email": {rep}, "password": {password}}); a.Status != http.StatusUnauthorized ||
		!strings.Contains(a.Body, "Wrong e-mail address or password") {
		t.Fatalf("a disabled rep's login: %d, want 401 as a wrong password", a.Status)
	}
	if a := b.get(console.UsersPath); !strings.Contains(a.Body, `<span class="state state-stale">disabled</span>`) {
		t.Fatalf("the list does not show the rep disabled")
	}
	b.get(page)
	if a := b.post(console.UserEnablePath, url.Values{"email": {rep}}); a.Status != http.StatusSeeOther || e.user(rep).Disabled {
		t.Fatalf("enable: %d, %+v", a.Status, e.user(rep))
	}
	repB.logIn(rep)

	self := console.UserPath + "?email=" + url.QueryEscape(admin)
	b.get(self)
	if a := b.post(console.UserDisablePath, url.Values{"email": {admin}}); a.Status != http.StatusBadRequest || !strings.Contains(a.Body, "no enabled admin") {
		t.Fatalf("the only admin disabling themselves: %d, want 400", a.Status)
	}
	b.get(self)
	if a := b.post(console.UserUpdatePath, url.Values{"email": {admin}, "role": {"manager"}, "send_as": {admin}}); a.Status != http.StatusBadRequest || !strings.Contains(a.Body, "no enabled admin") {
		t.Fatalf("the only admin demoting themselves: %d, want 400", a.Status)
	}
	if u := e.user(admin); u.Role != store.RoleAdmin || u.Disabled {
		t.Fatalf("the refusals changed the admin: %+v", u)
	}
	loggedIn(t, b, "after the refusals")
	b.get(page)
	if a := b.post(console.UserUpdatePath, url.Values{"email": {"nobody@acme.example"}, "role": {"rep"}, "send_as": {"n@acme.example"}}); a.Status != http.StatusNotFound {
		t.Fatalf("update of a missing user: %d, want 404", a.Status)
	}
	want := []string{
		admin + " " + rep + " disable",
		admin + " " + rep + " enable",
		admin + " " + rep + " set role manager; send-as rep@acme.example,@acme.example",
		admin + " " + rep + " set role rep; send-as rep@acme.example",
	}
	if got := e.userChanges(); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("audit:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestUsersCSRF: every users form without the session's token is refused
// and changes nothing.
func TestUsersCSRF(t *testing.T) {
	e := newUsersEnv(t)
	b := e.browser()
	b.logIn(admin)
	for _, p := range []string{console.UsersPath, console.UserUpdatePath, console.UserDisablePath, console.UserEnablePath, console.UserPasswordPath} {
		form := url.Values{"csrf": {"forged"}, "email": {rep}, "role": {"admin"}, "send_as": {"x@acme.example"}, "generate": {"yes"}}
		if a := b.post(p, form); a.Status != http.StatusForbidden {
			t.Errorf("POST %s with a forged token: %d, want 403", p, a.Status)
		}
	}
	if u := e.user(rep); u.Role != store.RoleRep || u.Disabled || bcrypt.CompareHashAndPassword(u.PasswordHash, []byte(password)) != nil {
		t.Fatalf("forged forms changed the rep: %+v", u)
	}
	if n := len(e.userChanges()); n != 0 {
		t.Fatalf("%d changes audited", n)
	}
}

// TestUsersPasswordReset: a generated password is shown once and logs in,
// the old one no longer does, and the user's sessions end; a typed one too
// short is refused naming the field.
func TestUsersPasswordReset(t *testing.T) {
	e := newUsersEnv(t)
	b := e.browser()
	b.logIn(admin)
	repB := e.browser()
	repB.logIn(rep)
	page := console.UserPath + "?email=" + url.QueryEscape(rep)
	b.get(page)
	if a := b.post(console.UserPasswordPath, url.Values{"email": {rep}, "generate": {"no"}, "password": {"short"}}); a.Status != http.StatusBadRequest ||
		!regexp.MustCompile(`id="u-password"[^>]*aria-invalid="true"`).MatchString(a.Body) {
		t.Fatalf("short password: %d", a.Status)
	}
	loggedIn(t, repB, "after a refused reset")
	b.get(page)
	a := b.post(console.UserPasswordPath, url.Values{"email": {rep}, "generate": {"yes"}})
	m := generatedRE.FindStringSubmatch(a.Body)
	if a.Status != http.StatusOK || m == nil {
		t.Fatalf("reset: %d\n%s", a.Status, a.Body)
	}
	loggedOut(t, repB, "after the password reset")
	old := e.browser()
	old.get(console.LoginPath)
	if a := old.post(console.LoginPath, url.Values{"email": {rep}, "password": {password}}); a.Status != http.StatusUnauthorized {
		t.Fatalf("the old password: %d, want 401", a.Status)
	}
	if bcrypt.CompareHashAndPassword(e.user(rep).PasswordHash, []byte(m[1])) != nil {
		t.Fatalf("the stored hash does not verify the password shown")
	}
	b.get(page)
	if a := b.post(console.UserPasswordPath, url.Values{"email": {admin}, "generate": {"no"}, "password": {"the admin's own new one"}}); a.Status != http.StatusOK {
		t.Fatalf("own reset: %d", a.Status)
	}
	loggedIn(t, b, "after resetting one's own password")
	want := []string{admin + " " + admin + " passwd", admin + " " + rep + " passwd"}
	if got := e.userChanges(); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("audit %q, want %q", got, want)
	}
}

// TestUsersSecondFactorAndLastLogin: the list says who has a second
// factor and when each logged in last (as the gateway's Authenticator
// records it); the reset posted from a user's page comes back to it.
func TestUsersSecondFactorAndLastLogin(t *testing.T) {
	var login *auth.Authenticator
	e := newEnv(t, withAccounts(), func(o *console.Options) {
		a, err := auth.New(auth.Options{Users: o.Users.(store.Store), Attempts: o.Users.(store.Store), Cost: bcrypt.MinCost,
			Logins: o.Users.(store.Store), Wait: func(context.Context, time.Duration) error { return nil }})
		if err != nil {
			t.Fatal(err)
		}
		login, o.Login = a, a
	})
	repB := e.browser()
	repB.logIn(rep)
	login.Flush()
	last := e.user(rep).LastLogin
	if last.IsZero() {
		t.Fatalf("the console login recorded no last login")
	}
	b := e.browser()
	b.logIn(admin)
	a := b.get(console.UsersPath)
	row := regexp.MustCompile(`(?s)<tr>\s*<th scope="row"[^>]*><a href="/console/users/user\?email=rep%40acme.example">.*?</tr>`).FindString(a.Body)
	if !strings.Contains(row, last.UTC().Format("2006-01-02 15:04:05 UTC")) || !strings.Contains(row, ">none<") {
		t.Fatalf("rep's row lacks the last login or says enrolled:\n%s", row)
	}
	mrow := regexp.MustCompile(`(?s)<tr>\s*<th scope="row"[^>]*><a href="/console/users/user\?email=manager%40acme.example">.*?</tr>`).FindString(a.Body)
	if !strings.Contains(mrow, ">set up<") || !strings.Contains(mrow, ">never<") {
		t.Fatalf("manager's row:\n%s", mrow)
	}
	b.get(console.UserPath + "?email=" + url.QueryEscape(mgr))
	a = b.post(console.ResetPath, url.Values{"email": {mgr}, "from": {"users"}})
	if a.Status != http.StatusSeeOther || !strings.HasPrefix(a.Header.Get("Location"), console.UserPath+"?done=reset") {
		t.Fatalf("reset from the users page: %d to %q", a.Status, a.Header.Get("Location"))
	}
	if _, err := e.st.SecondFactor(t.Context(), mgr); err == nil {
		t.Fatalf("the manager's second factor is still there")
	}
}

// TestUsersHostileValuesRenderAsText: an address and a send-as entry
// holding quotes and markup (written to the store by hand) show as text.
func TestUsersHostileValuesRenderAsText(t *testing.T) {
	e := newUsersEnv(t)
	e.addUser(store.User{Email: `o'b"r<b>@acme.example`, Role: store.RoleRep, SendAs: []string{evil}})
	b := e.browser()
	b.logIn(admin)
	for _, p := range []string{console.UsersPath, console.UserPath + "?email=" + url.QueryEscape(`o'b"r<b>@acme.example`)} {
		a := b.get(p)
		if a.Status != http.StatusOK {
			t.Fatalf("GET %s: %d", p, a.Status)
		}
		for _, raw := range []string{"<script>", "<img src=x", `r<b>@`, `value="o'b"r`} {
			if strings.Contains(a.Body, raw) {
				t.Errorf("GET %s: %q is in the page", p, raw)
			}
		}
		if !strings.Contains(a.Body, "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;") {
			t.Errorf("GET %s: the send-as entry is not shown escaped", p)
		}
	}
}
