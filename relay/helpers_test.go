package relay

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"net/textproto"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
	"golang.org/x/crypto/bcrypt"

	"github.com/dncgate/dncgate/auth"
	"github.com/dncgate/dncgate/internal/testcert"
	"github.com/dncgate/dncgate/relay/upstream"
	"github.com/dncgate/dncgate/smtpreply"
	"github.com/dncgate/dncgate/store"
)

// Test accounts.
const (
	repEmail    = "rep@acme.fr"
	repPassword = "correct horse"
	botEmail    = "crm@acme.fr" // identity of the trusted network
)

// fakeUsers is an in-memory Users with bcrypt.MinCost hashes.
type fakeUsers struct {
	mu    sync.Mutex
	users map[string]store.User
	err   error // returned by every lookup when set
}

func newFakeUsers(t *testing.T) *fakeUsers {
	t.Helper()
	f := &fakeUsers{users: map[string]store.User{}}
	f.add(t, repEmail, repPassword, "rep@acme.fr", "@sales.acme.fr", "Rep.Alias@Acme.FR")
	f.add(t, botEmail, "unused-password", "crm@acme.fr", "@news.acme.fr")
	return f
}

func (f *fakeUsers) add(t *testing.T, email, password string, sendAs ...string) {
	t.Helper()
	h, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.users[email] = store.User{Email: email, Role: store.RoleRep, SendAs: sendAs, PasswordHash: h}
}

func (f *fakeUsers) User(_ context.Context, email string) (store.User, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return store.User{}, f.err
	}
	u, ok := f.users[email]
	if !ok {
		return store.User{}, store.ErrNotFound
	}
	return u, nil
}

// fakeAttempts is an in-memory store.Attempts on a clock the test moves
// (the stores' own are checked by the store contract).
type fakeAttempts struct {
	mu  sync.Mutex
	now time.Time
	m   map[string]fakeCount
}

type fakeCount struct {
	n   int64
	end time.Time
}

func newFakeAttempts() *fakeAttempts {
	return &fakeAttempts{now: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC), m: map[string]fakeCount{}}
}

func (f *fakeAttempts) ReserveAttempt(_ context.Context, keys []store.AttemptKey, window time.Duration) ([]int64, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	counts := make([]int64, len(keys))
	ok := true
	for i, k := range keys {
		counts[i] = f.live(k.Key).n
		ok = ok && counts[i] < k.Limit
	}
	for _, k := range keys {
		if ok {
			c := f.live(k.Key)
			if c.n == 0 {
				c.end = f.now.Add(window)
			}
			c.n++
			f.m[k.Key] = c
		}
	}
	return counts, ok, nil
}

func (f *fakeAttempts) SettleAttempt(_ context.Context, reset, release []string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, k := range reset {
		delete(f.m, k)
	}
	for _, k := range release {
		if c := f.live(k); c.n > 0 {
			c.n--
			f.m[k] = c
		}
	}
	return nil
}

func (f *fakeAttempts) live(key string) fakeCount {
	if c := f.m[key]; f.now.Before(c.end) {
		return c
	}
	return fakeCount{}
}

func (f *fakeAttempts) advance(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = f.now.Add(d)
}

func (f *fakeAttempts) get(key string) int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.live(key).n
}

// fakeForwarder records what it is given and fails chosen recipients.
type fakeForwarder struct {
	mu      sync.Mutex
	calls   []forwardCall
	fail    map[string]error // by recipient address
	already map[string]bool
	copies  map[string]string // what the envelope's Transform made, by recipient
	entered chan struct{}     // when set, receives once Forward starts
	hold    <-chan struct{}   // when set, Forward waits for it
}

type forwardCall struct {
	env  upstream.Envelope
	body string
	ctx  context.Context
}

func newFakeForwarder() *fakeForwarder {
	return &fakeForwarder{fail: map[string]error{}, already: map[string]bool{}, copies: map[string]string{}}
}

func (f *fakeForwarder) Forward(ctx context.Context, env upstream.Envelope, body []byte) []upstream.Result {
	// As a Target does before each copy's final dot: a copy whose records
	// are not durable never reaches this upstream.
	if err := upstream.PassGate(ctx); err != nil {
		res := make([]upstream.Result, len(env.Rcpts))
		for i, r := range env.Rcpts {
			res[i] = upstream.Result{Rcpt: r.Addr, Err: err}
		}
		return res
	}
	f.mu.Lock()
	f.calls = append(f.calls, forwardCall{env: env, body: string(body), ctx: ctx})
	f.mu.Unlock()
	if f.entered != nil {
		f.entered <- struct{}{}
	}
	if f.hold != nil {
		select {
		case <-f.hold:
		case <-ctx.Done():
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	res := make([]upstream.Result, len(env.Rcpts))
	for i, r := range env.Rcpts {
		res[i] = upstream.Result{Rcpt: r.Addr, Err: f.fail[r.Addr], Already: f.already[r.Addr]}
		if env.Transform != nil && res[i].Err == nil {
			var out []byte
			out, res[i].Err = env.Transform(r.Addr, body)
			f.copies[r.Addr] = string(out)
		}
	}
	return res
}

func (f *fakeForwarder) failRcpt(addr string, temporary bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	e := smtpreply.New(smtpreply.Status{Code: 550, Enhanced: smtp.EnhancedCode{5, 1, 1}}, smtpreply.UpstreamPermanent, "no such user here", nil)
	if temporary {
		e = smtpreply.New(smtpreply.Unreachable, smtpreply.UpstreamTemporary, "upstream unreachable", nil)
	}
	f.fail[addr] = e
}

func (f *fakeForwarder) got() []forwardCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]forwardCall(nil), f.calls...)
}

// syncBuffer collects log output from many goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// testEnv is a running Server with its fakes.
type testEnv struct {
	srv      *Server
	users    *fakeUsers
	attempts *fakeAttempts
	fwd      *fakeForwarder
	logs     *syncBuffer
	waits    *waitRecorder
}

// waitRecorder replaces the throttle's sleep.
type waitRecorder struct {
	mu     sync.Mutex
	delays []time.Duration
}

func (w *waitRecorder) wait(_ context.Context, d time.Duration) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.delays = append(w.delays, d)
	return nil
}

func (w *waitRecorder) got() []time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]time.Duration(nil), w.delays...)
}

// testLogin is the authenticator of the tests: window 1h, slow after 2
// failures, blocked after 4, delays up to 4s (recorded by wait).
func testLogin(t *testing.T, users Users, attempts *fakeAttempts, wait func(context.Context, time.Duration) error) *auth.Authenticator {
	t.Helper()
	login, err := auth.New(auth.Options{
		Users: users, Attempts: attempts, Cost: bcrypt.MinCost, Wait: wait,
		Limits: auth.Limits{Window: time.Hour, SlowAfter: 2, BlockAfter: 4, MaxDelay: 4 * time.Second},
	})
	if err != nil {
		t.Fatal(err)
	}
	return login
}

type option func(*Options)

// testServer starts a Server on 127.0.0.1:0 with one plain listener (unless
// an option sets others) and stops it at the end of the test.
func testServer(t *testing.T, opts ...option) *testEnv {
	t.Helper()
	e := &testEnv{users: newFakeUsers(t), attempts: newFakeAttempts(), fwd: newFakeForwarder(),
		logs: &syncBuffer{}, waits: &waitRecorder{}}
	o := Options{
		Hostname:  "relay.test",
		Listeners: []Listener{{Name: "plain", Addr: "127.0.0.1:0", TLS: testTLS(t)}},
	}
	for _, f := range opts {
		f(&o)
	}
	log := slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	srv, err := New(o, e.users, testLogin(t, e.users, e.attempts, e.waits.wait), e.fwd, log)
	if err != nil {
		t.Fatal(err)
	}
	e.srv = srv
	served := make(chan error, 1)
	go func() { served <- srv.Serve() }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		if err := <-served; err != nil {
			t.Errorf("Serve: %v", err)
		}
		if t.Failed() {
			t.Logf("server log:\n%s", e.logs.String())
		}
	})
	return e
}

func (e *testEnv) addr(i int) string { return e.srv.Addrs()[i].String() }

// withListeners replaces the listeners.
func withListeners(ls ...Listener) option {
	return func(o *Options) { o.Listeners = ls }
}

var (
	pkiOnce sync.Once
	pki     *testcert.PKI
)

// testPKI is the certificate authority and server certificate every test of
// the package shares, so a server and its clients agree.
func testPKI(t *testing.T) *testcert.PKI {
	t.Helper()
	pkiOnce.Do(func() { pki = testcert.New(t, "relay.test") })
	return pki
}

func testTLS(t *testing.T) *tls.Config { return testPKI(t).ServerTLS() }

// clientTLS trusts the test authority.
func clientTLS(t *testing.T) *tls.Config { return testPKI(t).ClientTLS("127.0.0.1") }

// caFile writes the test authority's certificate for external tools.
func caFile(t *testing.T) string {
	_, _, ca := testPKI(t).WriteFiles(t, t.TempDir())
	return ca
}

// goClient dials with go-smtp's client and says EHLO.
func goClient(t *testing.T, addr string) *smtp.Client {
	t.Helper()
	c, err := smtp.Dial(addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if err := c.Hello("client.test"); err != nil {
		t.Fatal(err)
	}
	return c
}

func authPlain(t *testing.T, c *smtp.Client) {
	t.Helper()
	if err := c.Auth(sasl.NewPlainClient("", repEmail, repPassword)); err != nil {
		t.Fatalf("AUTH: %v", err)
	}
}

// smtpErr asserts err is an *smtp.SMTPError with that code and enhanced code
// and returns its text.
func smtpErr(t *testing.T, err error, code int, enh smtp.EnhancedCode) string {
	t.Helper()
	se, ok := err.(*smtp.SMTPError)
	if !ok {
		t.Fatalf("got %v (%T), want SMTP error %d %v", err, err, code, enh)
	}
	if se.Code != code || se.EnhancedCode != enh {
		t.Fatalf("got %d %v %q, want %d %v", se.Code, se.EnhancedCode, se.Message, code, enh)
	}
	return se.Message
}

// rawClient speaks SMTP line by line, for exact replies and broken input.
type rawClient struct {
	t    *testing.T
	conn net.Conn
	r    *textproto.Reader
}

func dialRaw(t *testing.T, addr string) *rawClient {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	return newRaw(t, conn)
}

func newRaw(t *testing.T, conn net.Conn) *rawClient {
	t.Helper()
	t.Cleanup(func() { conn.Close() })
	conn.SetDeadline(time.Now().Add(20 * time.Second))
	c := &rawClient{t: t, conn: conn, r: textproto.NewReader(bufio.NewReader(conn))}
	c.expect(220)
	return c
}

// send writes raw bytes, CRLF not added.
func (c *rawClient) send(s string) {
	c.t.Helper()
	if _, err := c.conn.Write([]byte(s)); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

// reply reads one (possibly multi-line) reply and returns its last line.
func (c *rawClient) reply() string {
	c.t.Helper()
	var last string
	for {
		line, err := c.r.ReadLine()
		if err != nil {
			c.t.Fatalf("read reply: %v (last line %q)", err, last)
		}
		last = line
		if len(line) < 4 || line[3] != '-' {
			return last
		}
	}
}

// cmd sends one command line and returns the reply's last line.
func (c *rawClient) cmd(line string) string {
	c.t.Helper()
	c.send(line + "\r\n")
	return c.reply()
}

// expect reads a reply and checks its code.
func (c *rawClient) expect(code int) string {
	c.t.Helper()
	got := c.reply()
	if !strings.HasPrefix(got, fmt.Sprint(code)) {
		c.t.Fatalf("got %q, want %d", got, code)
	}
	return got
}

// must sends a command and checks the reply code.
func (c *rawClient) must(line string, code int) string {
	c.t.Helper()
	c.send(line + "\r\n")
	return c.expect(code)
}

func (c *rawClient) ehlo() { c.t.Helper(); c.must("EHLO client.test", 250) }

func (c *rawClient) auth(user, password string) string {
	c.t.Helper()
	return c.cmd("AUTH PLAIN " + base64.StdEncoding.EncodeToString([]byte("\x00"+user+"\x00"+password)))
}

// login opens an authenticated raw session.
func (e *testEnv) login(t *testing.T) *rawClient {
	t.Helper()
	c := dialRaw(t, e.addr(0))
	c.ehlo()
	if got := c.auth(repEmail, repPassword); !strings.HasPrefix(got, "235 ") {
		t.Fatalf("AUTH: %q", got)
	}
	return c
}

// refOf extracts the "(ref XXXXXXXX)" of a reply line.
func refOf(t *testing.T, line string) string {
	t.Helper()
	i := strings.LastIndex(line, "(ref ")
	if i < 0 || len(line) < i+14 || line[i+13] != ')' {
		t.Fatalf("no reference in %q", line)
	}
	return line[i+5 : i+13]
}

func mustPrefix(t *testing.T, s string) netip.Prefix {
	t.Helper()
	p, err := netip.ParsePrefix(s)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// message builds a small CRLF message.
func message(from, subject string) string {
	return "From: " + from + "\r\nTo: someone@example.com\r\nSubject: " + subject + "\r\n\r\nHello.\r\n"
}

func saslPlain(user, password string) sasl.Client { return sasl.NewPlainClient("", user, password) }

func discardLog() *slog.Logger { return slog.New(slog.DiscardHandler) }

// disable marks the user disabled, as users disable does.
func (f *fakeUsers) disable(email string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	u := f.users[email]
	u.Disabled = true
	f.users[email] = u
}
