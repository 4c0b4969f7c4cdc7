package checkapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/dncgate/dncgate/auth"
	"github.com/dncgate/dncgate/checkapi"
	"github.com/dncgate/dncgate/config"
	"github.com/dncgate/dncgate/internal/testredis"
	"github.com/dncgate/dncgate/listdb"
	"github.com/dncgate/dncgate/listmodel"
	"github.com/dncgate/dncgate/store"
	"github.com/dncgate/dncgate/store/embedded"
	"github.com/dncgate/dncgate/store/redisstore"
	"github.com/dncgate/dncgate/suppression"
)

var key = []byte("0123456789abcdef0123456789abcdef")

const (
	user     = "crm@acme.test"
	password = "correct horse battery"
)

// backend is a store with users and lists.
type backend interface {
	listdb.Store
	store.Attempts
	AddUser(ctx context.Context, u store.User) error
	User(ctx context.Context, email string) (store.User, error)
	Close() error
}

// login is an authenticator on st with the default limits (10 failures
// of a user from one client block it), no delays, counting comparisons.
func login(t *testing.T, st backend, checks *atomic.Int64) *auth.Authenticator {
	t.Helper()
	a, err := auth.New(auth.Options{
		Users: st, Attempts: st, Cost: bcrypt.MinCost,
		Wait: func(context.Context, time.Duration) error { return nil },
		OnCompare: func() {
			if checks != nil {
				checks.Add(1)
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// server starts the handler on st with one user and one opt-out.
func server(t *testing.T, st backend, rate int) *httptest.Server {
	t.Helper()
	return serverWith(t, st, rate, login(t, st, nil))
}

func serverWith(t *testing.T, st backend, rate int, a *auth.Authenticator) *httptest.Server {
	t.Helper()
	ctx := t.Context()
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.AddUser(ctx, store.User{Email: user, Role: store.RoleRep, PasswordHash: hash}); err != nil {
		t.Fatal(err)
	}
	if err := suppression.EnsureOptOut(ctx, st); err != nil {
		t.Fatal(err)
	}
	if err := st.AddEntry(ctx, listmodel.OptOut, listdb.Key(key, "email", "gone@firma.fr")); err != nil {
		t.Fatal(err)
	}
	pol, err := suppression.NewPolicy(config.Policy{})
	if err != nil {
		t.Fatal(err)
	}
	chk, err := suppression.New(suppression.Options{Lists: st, Policy: pol, Key: key})
	if err != nil {
		t.Fatal(err)
	}
	h, err := checkapi.New(checkapi.Options{Check: chk, Login: a, RatePerMinute: rate, Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

func embeddedStore(t *testing.T) backend {
	st, err := embedded.Open(filepath.Join(t.TempDir(), "d.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// post sends body with credentials (none when name is empty).
func post(t *testing.T, srv *httptest.Server, name, pass, body string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, srv.URL+checkapi.Path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if name != "" {
		req.SetBasicAuth(name, pass)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

type results struct {
	Results []struct {
		Address, Verdict, Code, Reason, List string
	}
}

func TestCheckAPIAnswers(t *testing.T) {
	for name, open := range map[string]func(*testing.T) backend{
		"embedded": embeddedStore,
		"redis": func(t *testing.T) backend {
			st, err := redisstore.Open(t.Context(), redisstore.Options{URL: "redis://" + testredis.Start(t)})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			return st
		},
	} {
		t.Run(name, func(t *testing.T) {
			srv := server(t, open(t), 100)
			resp, body := post(t, srv, "CRM@acme.test", password, `{"recipients": ["Gone+promo@firma.fr", "ok@firma.fr", "nope"]}`)
			if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/json; charset=utf-8" {
				t.Fatalf("status %d %q: %s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
			}
			var got results
			if err := json.Unmarshal([]byte(body), &got); err != nil {
				t.Fatal(err)
			}
			want := [][3]string{{"Gone+promo@firma.fr", "refused", "opt-out"}, {"ok@firma.fr", "allowed", "allowed"}, {"nope", "refused", "address"}}
			if len(got.Results) != len(want) {
				t.Fatalf("results %+v", got.Results)
			}
			for i, w := range want {
				r := got.Results[i]
				if r.Address != w[0] || r.Verdict != w[1] || r.Code != w[2] {
					t.Errorf("result %d: %+v, want %v", i, r, w)
				}
			}
			if got.Results[0].List != listmodel.OptOut {
				t.Errorf("opt-out result names list %q", got.Results[0].List)
			}
		})
	}
}

func TestCheckAPIRefusesBadRequests(t *testing.T) {
	srv := server(t, embeddedStore(t), 1000)
	many := `{"recipients": [` + strings.Repeat(`"a@b.fr",`, 1000) + `"a@b.fr"]}`
	huge := `{"recipients": ["` + strings.Repeat("a", 300<<10) + `"]}`
	for _, tc := range []struct {
		name, user, pass, body string
		status                 int
		fragment               string
	}{
		{"no credentials", "", "", `{"recipients":["a@b.fr"]}`, 401, "log in"},
		{"wrong password", user, "guess", `{"recipients":["a@b.fr"]}`, 401, "log in"},
		{"unknown user", "who@acme.test", password, `{"recipients":["a@b.fr"]}`, 401, "log in"},
		{"not JSON", user, password, `recipients=a@b.fr`, 400, "body:"},
		{"unknown field", user, password, `{"rcpts":["a@b.fr"]}`, 400, `unknown field \"rcpts\"`},
		{"two values", user, password, `{"recipients":["a@b.fr"]} {}`, 400, "more than one JSON value"},
		{"no recipients", user, password, `{"recipients":[]}`, 400, "recipients: empty"},
		{"too many", user, password, many, 400, "1001 addresses; at most 1000"},
		{"too large", user, password, huge, 413, "larger than 256 KiB"},
	} {
		resp, body := post(t, srv, tc.user, tc.pass, tc.body)
		if resp.StatusCode != tc.status || !strings.Contains(body, tc.fragment) {
			t.Errorf("%s: %d %s, want %d with %q", tc.name, resp.StatusCode, body, tc.status, tc.fragment)
		}
		if tc.status == 401 && !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Basic ") {
			t.Errorf("%s: no Basic challenge", tc.name)
		}
	}
	resp, err := http.Get(srv.URL + checkapi.Path)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "POST" {
		t.Errorf("GET: %d, Allow %q", resp.StatusCode, resp.Header.Get("Allow"))
	}
}

// TestCheckAPILimits: requests and failed logins are limited per client.
func TestCheckAPILimits(t *testing.T) {
	srv := server(t, embeddedStore(t), 3)
	for i := range 3 {
		if resp, body := post(t, srv, user, password, `{"recipients":["a@b.fr"]}`); resp.StatusCode != 200 {
			t.Fatalf("request %d: %d %s", i+1, resp.StatusCode, body)
		}
	}
	resp, _ := post(t, srv, user, password, `{"recipients":["a@b.fr"]}`)
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("fourth request: %d, Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}

	srv = server(t, embeddedStore(t), 1000)
	codes := map[int]int{}
	for range 12 {
		resp, _ := post(t, srv, user, "guess", `{"recipients":["a@b.fr"]}`)
		codes[resp.StatusCode]++
	}
	if codes[401] != 10 || codes[429] != 2 {
		t.Fatalf("12 failed logins answered %v, want 10×401 then 429", codes)
	}
}

// TestCheckAPILockOut: after 10 failures the right password gets 429 too,
// no locked attempt costs a password check, and the lock-out is the one
// SMTP AUTH shares (another authenticator on the same store).
func TestCheckAPILockOut(t *testing.T) {
	st := embeddedStore(t)
	var checks atomic.Int64
	srv := serverWith(t, st, 1000, login(t, st, &checks))
	for range 10 {
		post(t, srv, user, "guess", `{"recipients":["a@b.fr"]}`)
	}
	before := checks.Load()
	for range 20 {
		if resp, body := post(t, srv, user, password, `{"recipients":["a@b.fr"]}`); resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
			t.Fatalf("right password after 10 failures: %d %s", resp.StatusCode, body)
		}
	}
	if n := checks.Load() - before; n != 0 {
		t.Fatalf("locked attempts ran %d password checks", n)
	}

	st = embeddedStore(t)
	srv = server(t, st, 1000)
	smtp := login(t, st, nil) // the SMTP side's, or another instance's
	for range 10 {
		smtp.Login(t.Context(), auth.Attempt{User: user, Password: "guess", Client: netip.MustParseAddr("127.0.0.1")})
	}
	if resp, body := post(t, srv, user, password, `{"recipients":["a@b.fr"]}`); resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("right password after 10 SMTP failures: %d %s", resp.StatusCode, body)
	}
}

// TestCheckAPIStoreDown: a check that cannot be made is a 503, never a
// verdict.
func TestCheckAPIStoreDown(t *testing.T) {
	st := embeddedStore(t)
	srv := server(t, st, 100)
	if resp, body := post(t, srv, user, password, `{"recipients":["a@b.fr"]}`); resp.StatusCode != 200 {
		t.Fatalf("warm-up: %d %s", resp.StatusCode, body)
	}
	st.Close()
	resp, body := post(t, srv, user, password, `{"recipients":["a@b.fr"]}`)
	// The login itself cannot be counted then: 503 before any check.
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(body, "try again later") {
		t.Fatalf("store closed: %d %s", resp.StatusCode, body)
	}
	if bytes.Contains([]byte(body), []byte("results")) {
		t.Fatal("a partial answer was given")
	}
}

// TestCheckAPIDisabledUser: a disabled user's right password gets the
// answer a wrong one gets; enabled again, the check answers and the login
// is recorded as the user's last.
func TestCheckAPIDisabledUser(t *testing.T) {
	st := embeddedStore(t)
	a, err := auth.New(auth.Options{Users: st, Attempts: st, Cost: bcrypt.MinCost, Logins: st.(auth.Logins),
		Wait: func(context.Context, time.Duration) error { return nil }})
	if err != nil {
		t.Fatal(err)
	}
	srv := serverWith(t, st, 1000, a)
	users := st.(store.Users)
	u, _ := users.User(t.Context(), user)
	u.Disabled = true
	if err := users.UpdateUser(t.Context(), u); err != nil {
		t.Fatal(err)
	}
	right, rightBody := post(t, srv, user, password, `{"recipients":["a@b.fr"]}`)
	wrong, wrongBody := post(t, srv, user, "guess", `{"recipients":["a@b.fr"]}`)
	if right.StatusCode != http.StatusUnauthorized || wrong.StatusCode != right.StatusCode || rightBody != wrongBody {
		t.Fatalf("disabled user: right password %d %s, wrong one %d %s", right.StatusCode, rightBody, wrong.StatusCode, wrongBody)
	}
	a.Flush()
	if u, _ := users.User(t.Context(), user); !u.LastLogin.IsZero() {
		t.Fatalf("a refused login was recorded: %v", u.LastLogin)
	}
	u.Disabled = false
	users.UpdateUser(t.Context(), u)
	if resp, body := post(t, srv, user, password, `{"recipients":["a@b.fr"]}`); resp.StatusCode != http.StatusOK {
		t.Fatalf("enabled again: %d %s", resp.StatusCode, body)
	}
	a.Flush()
	if u, _ := users.User(t.Context(), user); u.LastLogin.IsZero() {
		t.Fatalf("the API login was not recorded")
	}
}
