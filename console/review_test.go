package console

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dncgate/dncgate/auth"
	"github.com/dncgate/dncgate/ledger"
	"github.com/dncgate/dncgate/ledger/ledgertest"
	ledgersqlite "github.com/dncgate/dncgate/ledger/sqlite"
	"github.com/dncgate/dncgate/listdb"
	"github.com/dncgate/dncgate/listmodel"
	"github.com/dncgate/dncgate/store"
	"github.com/dncgate/dncgate/store/embedded"
)

// review is a console on the real embedded store and a real SQLite
// ledger, served on a loopback socket, with one user of each role.
type review struct {
	t       *testing.T
	st      *embedded.Store
	led     *ledgersqlite.Ledger
	c       *Console
	srv     *httptest.Server
	now     time.Time
	key     []byte
	evil    string // a rep whose name is markup
	clients map[string]*http.Client
}

const (
	repUser     = "rep@corp.example"
	managerUser = "manager@corp.example"
	adminUser   = "admin@corp.example"
)

func newReview(t *testing.T) *review {
	t.Helper()
	dir := t.TempDir()
	st, err := embedded.Open(filepath.Join(dir, "dncgate.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	led, err := ledgersqlite.Open(filepath.Join(dir, "ledger.db"), ledgertest.DefaultRetention)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { led.Close() })
	a, err := auth.New(auth.Options{Users: st, Attempts: st})
	if err != nil {
		t.Fatal(err)
	}
	r := &review{t: t, st: st, led: led, now: ledgertest.Base, key: []byte("0123456789abcdef0123456789abcdef"),
		evil: `<script>alert("x")</script>'@corp.example`, clients: map[string]*http.Client{}}
	r.c, err = New(Options{Users: st, Sessions: st, Login: a, Audit: led, Ledger: led, DigestKey: r.key,
		Lists: st, Contacts: st.Contacts(), Insecure: true, Now: func() time.Time { return r.now },
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	r.srv = httptest.NewServer(r.c)
	t.Cleanup(r.srv.Close)
	t.Cleanup(r.c.jobs.Wait)
	for email, role := range map[string]store.Role{repUser: store.RoleRep, managerUser: store.RoleManager, adminUser: store.RoleAdmin} {
		if err := st.AddUser(context.Background(), store.User{Email: email, Role: role, SendAs: []string{email}, PasswordHash: []byte("x")}); err != nil {
			t.Fatal(err)
		}
	}
	return r
}

// as is a browser logged in as email: its session made in the store, as
// a completed login leaves it.
func (r *review) as(email string) *http.Client {
	if c := r.clients[email]; c != nil {
		return c
	}
	secret := r.sessionSecret(email)
	jar, _ := cookiejar.New(nil)
	u, _ := url.Parse(r.srv.URL)
	jar.SetCookies(u, []*http.Cookie{{Name: r.c.cookieName(), Value: secret, Path: "/"}})
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	r.clients[email] = c
	return c
}

// sessionSecret makes a session of email in the store, as a completed
// login leaves it, and returns the cookie's secret.
func (r *review) sessionSecret(email string) string {
	secret := newSecret()
	s := store.Session{ID: sessionID(secret), User: email, CSRF: "csrf-" + email, CreatedAt: r.now, SeenAt: r.now}
	if err := r.st.CreateSession(context.Background(), s, time.Hour); err != nil {
		r.t.Fatal(err)
	}
	return secret
}

// get fetches path as email and returns the status and body.
func (r *review) get(email, path string) (int, string) {
	r.t.Helper()
	resp, err := r.as(email).Get(r.srv.URL + path)
	if err != nil {
		r.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// post submits a form as email, with the session's CSRF token unless
// csrf is false.
func (r *review) post(email, path string, form url.Values, csrf bool) (*http.Response, string) {
	r.t.Helper()
	if csrf {
		form.Set(csrfField, "csrf-"+email)
	}
	resp, err := r.as(email).PostForm(r.srv.URL+path, form)
	if err != nil {
		r.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// record writes decisions of the last days to the ledger.
func (r *review) record(ds ...ledger.Decision) {
	r.t.Helper()
	if err := r.led.Record(context.Background(), ds); err != nil {
		r.t.Fatal(err)
	}
}

// putList creates a list with a max age of maxAge, imported age ago (not
// imported when age < 0).
func (r *review) putList(name string, maxAge, age time.Duration, values ...string) {
	r.t.Helper()
	ctx := context.Background()
	if err := r.st.PutList(ctx, listdb.Meta{Name: name, Kind: "email", Model: listmodel.Deny, MaxAge: maxAge, Source: "test"}); err != nil {
		r.t.Fatal(err)
	}
	if age < 0 {
		return
	}
	w, err := r.st.BeginVersion(ctx, name, 0)
	if err != nil {
		r.t.Fatal(err)
	}
	var ds []listdb.Digest
	for _, v := range values {
		ds = append(ds, listdb.NewDigester(r.key, "email").Digest(v))
	}
	if err := w.Add(ctx, ds); err != nil {
		r.t.Fatal(err)
	}
	if _, err := w.Commit(ctx, listdb.Version{ImportedAt: r.now.Add(-age), ImportedBy: adminUser, FileSHA256: "ab12",
		Rows: int64(len(values)), Valid: int64(len(values))}); err != nil {
		r.t.Fatal(err)
	}
}

func mustContain(t *testing.T, body string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(body, w) {
			t.Errorf("page lacks %q:\n%s", w, body)
		}
	}
}

func mustNotContain(t *testing.T, body string, nots ...string) {
	t.Helper()
	for _, n := range nots {
		if strings.Contains(body, n) {
			t.Errorf("page holds %q:\n%s", n, body)
		}
	}
}

func readAll(t *testing.T, resp *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
