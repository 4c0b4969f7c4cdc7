package console_test

import (
	"context"
	"crypto/tls"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pquerna/otp"
	gotp "github.com/pquerna/otp/totp"
	"golang.org/x/crypto/bcrypt"

	"github.com/dncgate/dncgate/auth"
	"github.com/dncgate/dncgate/console"
	"github.com/dncgate/dncgate/console/totp"
	"github.com/dncgate/dncgate/internal/teststore"
	"github.com/dncgate/dncgate/ledger"
	"github.com/dncgate/dncgate/ledger/sqlite"
	"github.com/dncgate/dncgate/store"
	"github.com/dncgate/dncgate/store/embedded"
)

const (
	password = "correct horse battery"
	// secret is the second factor the enrolled test users have.
	secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
	rep    = "rep@acme.example"
	rep2   = "other@acme.example"
	mgr    = "manager@acme.example"
	admin  = "admin@acme.example"
)

var digestKey = []byte("0123456789abcdef0123456789abcdef")

// clock is the console's time, moved by the tests.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// env is a console on a real store and a real ledger, behind HTTPS.
type env struct {
	t     testing.TB
	st    store.Store
	led   ledger.Ledger
	login *auth.Authenticator
	clock *clock
	srv   *httptest.Server
	c     *console.Console
}

type envOption func(*console.Options)

// newEnv opens an embedded store; newEnvOn takes any store.
func newEnv(t testing.TB, opts ...envOption) *env {
	t.Helper()
	st, err := embedded.Open(filepath.Join(t.TempDir(), "dncgate.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return newEnvOn(t, st, opts...)
}

// eachStore runs f on the embedded store, a redis-server and a 3-master
// cluster.
func eachStore(t *testing.T, f func(t *testing.T, st store.Store)) {
	teststore.Each(t, func(t *testing.T, st teststore.Store) { f(t, st.(store.Store)) })
}

func newEnvOn(t testing.TB, st store.Store, opts ...envOption) *env {
	t.Helper()
	led, err := sqlite.Open(filepath.Join(t.TempDir(), "ledger.db"), ledger.Retention{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { led.Close() })
	return newEnvWith(t, st, led, opts...)
}

// newEnvWith is a console on st and the ledger led, which the caller
// closes.
func newEnvWith(t testing.TB, st store.Store, led ledger.Ledger, opts ...envOption) *env {
	t.Helper()
	e := &env{t: t, st: st, led: led, clock: &clock{now: time.Now().UTC()}}
	e.login = newAuth(t, st)
	for _, u := range []store.User{{Email: rep, Role: store.RoleRep}, {Email: rep2, Role: store.RoleRep},
		{Email: mgr, Role: store.RoleManager}, {Email: admin, Role: store.RoleAdmin}} {
		e.addUser(u)
	}
	for _, u := range []string{mgr, admin} {
		e.enrol(u)
	}
	o := console.Options{Users: st, Sessions: st, Login: e.login, Audit: led, Ledger: led, DigestKey: digestKey,
		Second: totp.New(st, "ACME"), Company: "ACME <Sales> & Co", Now: e.clock.Now,
		Log: slog.New(slog.DiscardHandler)}
	for _, f := range opts {
		f(&o)
	}
	c, err := console.New(o)
	if err != nil {
		t.Fatal(err)
	}
	e.c = c
	mux := http.NewServeMux()
	mux.Handle(console.Prefix, c)
	if o.Insecure {
		e.srv = httptest.NewServer(mux)
	} else {
		e.srv = httptest.NewTLSServer(mux)
	}
	t.Cleanup(e.srv.Close)
	return e
}

// newAuth is an authenticator on st as the gateway makes it, without its
// delays: another instance's is the same on the same store.
func newAuth(t testing.TB, st store.Store) *auth.Authenticator {
	a, err := auth.New(auth.Options{Users: st, Attempts: st, Cost: bcrypt.MinCost,
		Wait: func(context.Context, time.Duration) error { return nil }})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func (e *env) addUser(u store.User) {
	e.t.Helper()
	h, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
	if err != nil {
		e.t.Fatal(err)
	}
	u.PasswordHash = h
	if err := e.st.AddUser(context.Background(), u); err != nil {
		e.t.Fatal(err)
	}
}

// enrol gives the user the test secret and one recovery code.
func (e *env) enrol(user string) {
	e.t.Helper()
	if err := e.st.SetSecondFactor(context.Background(), user, store.SecondFactor{Secret: secret, EnrolledAt: time.Now()}); err != nil {
		e.t.Fatal(err)
	}
}

// code is the second factor's code at the console's time plus offset.
func (e *env) code(offset time.Duration) string {
	e.t.Helper()
	c, err := gotp.GenerateCodeCustom(secret, e.clock.Now().Add(offset), gotp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

// record writes decisions to the ledger.
func (e *env) record(ds ...ledger.Decision) {
	e.t.Helper()
	if err := e.led.Record(context.Background(), ds); err != nil {
		e.t.Fatal(err)
	}
}

// browser is one client with its cookies; it does not follow redirects.
type browser struct {
	e    *env
	c    *http.Client
	last string // the last page's body
}

func (e *env) browser() *browser {
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	if tr, ok := e.srv.Client().Transport.(*http.Transport); ok {
		c.Transport = tr.Clone()
	} else {
		c.Transport = &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}
	}
	return &browser{e: e, c: c}
}

// answer is one response, its body read.
type answer struct {
	Status int
	Header http.Header
	Body   string
}

func (b *browser) do(req *http.Request) answer {
	b.e.t.Helper()
	resp, err := b.c.Do(req)
	if err != nil {
		b.e.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	b.last = string(body)
	return answer{resp.StatusCode, resp.Header, string(body)}
}

func (b *browser) get(path string) answer {
	b.e.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, b.e.srv.URL+path, nil)
	return b.do(req)
}

// post sends form; with the CSRF token of the last page unless form has one.
func (b *browser) post(path string, form url.Values) answer {
	b.e.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	if _, ok := form["csrf"]; !ok {
		form.Set("csrf", b.csrf())
	}
	req, _ := http.NewRequest(http.MethodPost, b.e.srv.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func (b *browser) csrf() string {
	m := csrfRE.FindStringSubmatch(b.last)
	if m == nil {
		return ""
	}
	return m[1]
}

// logIn logs user in with the password and, for an enrolled user, the
// current code; it fails the test unless the log page follows.
func (b *browser) logIn(user string) {
	b.e.t.Helper()
	b.get(console.LoginPath)
	a := b.post(console.LoginPath, url.Values{"email": {user}, "password": {password}, "next": {console.HomePath}})
	if a.Status != http.StatusSeeOther {
		b.e.t.Fatalf("login of %s: %d\n%s", user, a.Status, a.Body)
	}
	if loc := a.Header.Get("Location"); strings.HasPrefix(loc, console.TOTPPath) {
		b.get(loc)
		a = b.post(console.TOTPPath, url.Values{"code": {b.e.code(0)}, "next": {console.HomePath}})
		if a.Status != http.StatusSeeOther {
			b.e.t.Fatalf("code of %s: %d\n%s", user, a.Status, a.Body)
		}
	}
	if loc := a.Header.Get("Location"); loc != console.HomePath {
		b.e.t.Fatalf("login of %s went to %q", user, loc)
	}
	if a := b.get(console.HomePath); a.Status != http.StatusOK {
		b.e.t.Fatalf("log page after login: %d", a.Status)
	}
}

// decision is a refusal by rep at the console's time minus ago.
func (e *env) decision(ref, repName, rcpt string, ago time.Duration) ledger.Decision {
	return ledger.Decision{
		ID: ledger.NewID(), At: e.clock.Now().Add(-ago), Ref: ref, Rep: repName, Sender: repName,
		RcptMasked: maskFor(rcpt), RcptDigest: ledger.RcptDigest(digestKey, rcpt), Domain: rcpt[strings.IndexByte(rcpt, '@')+1:],
		Country: "FR", CountryFrom: "tld", Verdict: ledger.Refused, Reason: "list:fr-bloctel",
		Match:   ledger.Match{List: "fr-bloctel", Version: "v3", KeyKind: "email"},
		Lists:   []ledger.ListVersion{{List: "optout", Version: "v9"}, {List: "fr-bloctel", Version: "v3"}},
		Outcome: ledger.Outcome{Kind: ledger.RefusedAtRcpt},
	}
}

func maskFor(addr string) string { return addr[:1] + "***" + addr[strings.IndexByte(addr, '@'):] }

func codeFor(t *testing.T, sec string, at time.Time) string {
	t.Helper()
	c, err := gotp.GenerateCodeCustom(sec, at, gotp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		t.Fatal(err)
	}
	return c
}
