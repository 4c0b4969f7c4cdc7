package optoutapi_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/dncgate/dncgate/auth"
	"github.com/dncgate/dncgate/internal/testredis"
	"github.com/dncgate/dncgate/ledger"
	ledgersqlite "github.com/dncgate/dncgate/ledger/sqlite"
	"github.com/dncgate/dncgate/listdb"
	"github.com/dncgate/dncgate/optoutapi"
	"github.com/dncgate/dncgate/store"
	"github.com/dncgate/dncgate/store/embedded"
	"github.com/dncgate/dncgate/store/redisstore"
	"github.com/dncgate/dncgate/suppression"
	"github.com/dncgate/dncgate/webhook"
)

var key = []byte("0123456789abcdef0123456789abcdef")

const password = "correct horse battery"

// backend is a store with users, login attempts, lists and the queue.
type backend interface {
	listdb.Store
	store.Attempts
	webhook.Queue
	AddUser(ctx context.Context, u store.User) error
	User(ctx context.Context, email string) (store.User, error)
}

type fixture struct {
	srv   *httptest.Server
	st    backend
	login *auth.Authenticator
}

func setup(t *testing.T, st backend) fixture {
	t.Helper()
	ctx := t.Context()
	hash, _ := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
	for email, role := range map[string]store.Role{"admin@acme.test": store.RoleAdmin, "boss@acme.test": store.RoleManager, "rep@acme.test": store.RoleRep} {
		if err := st.AddUser(ctx, store.User{Email: email, Role: role, PasswordHash: hash}); err != nil {
			t.Fatal(err)
		}
	}
	if err := suppression.EnsureOptOut(ctx, st); err != nil {
		t.Fatal(err)
	}
	a, err := auth.New(auth.Options{Users: st, Attempts: st, Cost: bcrypt.MinCost,
		Wait: func(context.Context, time.Duration) error { return nil }})
	if err != nil {
		t.Fatal(err)
	}
	led, err := ledgersqlite.Open(filepath.Join(t.TempDir(), "ledger.db"), ledger.Retention{Sent: time.Hour, Refused: time.Hour, Audit: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { led.Close() })
	n := &webhook.Notifier{Queue: st, Endpoints: []webhook.Endpoint{{Name: "crm", URL: "http://127.0.0.1:1/", Events: []webhook.Type{webhook.OptOut}, IncludeAddress: true}}}
	h, err := optoutapi.New(optoutapi.Options{OptOuts: suppression.NewOptOuts(st, key), Trail: led, Notify: n, Login: a, Key: key, Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle(optoutapi.Path, h)
	mux.Handle(optoutapi.Path+"/", h)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return fixture{srv: srv, st: st, login: a}
}

func (f fixture) do(t *testing.T, method, path, user, pass, body string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(method, f.srv.URL+path, strings.NewReader(body))
	if user != "" {
		req.SetBasicAuth(user, pass)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("%s %s: not JSON: %q", method, path, b)
	}
	return resp.StatusCode, out
}

func each(t *testing.T, f func(t *testing.T, st backend)) {
	t.Run("embedded", func(t *testing.T) {
		st, err := embedded.Open(filepath.Join(t.TempDir(), "d.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		f(t, st)
	})
	t.Run("redis", func(t *testing.T) {
		st, err := redisstore.Open(t.Context(), redisstore.Options{URL: "redis://" + testredis.Start(t)})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		f(t, st)
	})
}

// TestPostAndGet: a manager's opt-out is recorded once, its repeat is a
// no-op, the CRM's event is queued once, and GET shows it with its
// history; a rep may read but not record.
func TestPostAndGet(t *testing.T) {
	each(t, func(t *testing.T, st backend) {
		f := setup(t, st)
		body := `{"address": "Jean.Dupont+crm@Acme.fr", "reason": "asked on the phone"}`
		code, out := f.do(t, "POST", optoutapi.Path, "boss@acme.test", password, body)
		if code != http.StatusCreated || out["created"] != true || out["opted_out"] != true {
			t.Fatalf("first POST: %d %v; want 201 created", code, out)
		}
		code, out = f.do(t, "POST", optoutapi.Path, "admin@acme.test", password, `{"address": "jean.dupont@acme.fr", "reason": "again"}`)
		if code != http.StatusOK || out["created"] != false || out["opted_out"] != true {
			t.Fatalf("repeated POST: %d %v; want 200, not created", code, out)
		}
		jobs, err := st.Webhooks(t.Context(), false, 10)
		if err != nil || len(jobs) != 1 || !strings.Contains(string(jobs[0].Body), `"source":"api"`) || !strings.Contains(string(jobs[0].Body), `"actor":"boss@acme.test"`) {
			t.Fatalf("queued %v, %v; want one api event by the manager", jobs, err)
		}
		code, out = f.do(t, "POST", optoutapi.Path, "rep@acme.test", password, `{"address": "x@acme.fr", "reason": "r"}`)
		if code != http.StatusForbidden || !strings.Contains(out["error"].(string), "role rep") {
			t.Fatalf("rep POST: %d %v; want 403 naming the role", code, out)
		}
		code, out = f.do(t, "GET", optoutapi.Path+"/"+url.PathEscape("JEAN.DUPONT@acme.fr"), "rep@acme.test", password, "")
		if code != http.StatusOK || out["opted_out"] != true || out["since"] == nil {
			t.Fatalf("GET: %d %v; want opted out with a time", code, out)
		}
		hist := out["history"].([]any)
		if len(hist) != 1 {
			t.Fatalf("history %v; want the one opt-out (the repeat records nothing)", hist)
		}
		e := hist[0].(map[string]any)
		if e["action"] != "opt-out" || e["source"] != "api" || e["by"] != "boss@acme.test" || e["reason"] != "asked on the phone" {
			t.Fatalf("history event %v", e)
		}
		code, out = f.do(t, "GET", optoutapi.Path+"/someone@acme.fr", "rep@acme.test", password, "")
		if code != http.StatusOK || out["opted_out"] != false || len(out["history"].([]any)) != 0 {
			t.Fatalf("GET of another: %d %v; want not opted out, no history", code, out)
		}
	})
}

// TestRefusals: credentials, bad JSON and bad addresses get clear errors
// naming the field.
func TestRefusals(t *testing.T) {
	each(t, func(t *testing.T, st backend) {
		f := setup(t, st)
		for _, c := range []struct {
			method, path, user, pass, body string
			code                           int
			want                           string
		}{
			{"POST", optoutapi.Path, "", "", `{}`, 401, "log in"},
			{"POST", optoutapi.Path, "admin@acme.test", "wrong password!", `{}`, 401, "log in"},
			{"POST", optoutapi.Path, "admin@acme.test", password, `{"address": "a@b.fr"`, 400, "body:"},
			{"POST", optoutapi.Path, "admin@acme.test", password, `{"address": "a@b.fr", "reason": "x", "extra": 1}`, 400, "unknown field"},
			{"POST", optoutapi.Path, "admin@acme.test", password, `{"reason": "x"}`, 400, "address: required"},
			{"POST", optoutapi.Path, "admin@acme.test", password, `{"address": "not-an-address", "reason": "x"}`, 400, "address: "},
			{"POST", optoutapi.Path, "admin@acme.test", password, `{"address": "` + strings.Repeat("a", 250) + `@b.fr", "reason": "x"}`, 400, "address: longer than 254"},
			{"POST", optoutapi.Path, "admin@acme.test", password, `{"address": "a@b.fr"}`, 400, "reason: required"},
			{"POST", optoutapi.Path, "admin@acme.test", password, `{"address": "a@b.fr", "reason": "a\nb"}`, 400, "reason: control characters"},
			{"POST", optoutapi.Path, "admin@acme.test", password, `{"address": "a@b.fr", "reason": "` + strings.Repeat("x", 5000) + `"}`, 413, "larger than 4 KiB"},
			{"GET", optoutapi.Path + "/nope", "admin@acme.test", password, ``, 400, "address: "},
			{"GET", optoutapi.Path, "admin@acme.test", password, ``, 405, "use POST"},
			{"POST", optoutapi.Path + "/a@b.fr", "admin@acme.test", password, ``, 405, "use GET"},
		} {
			code, out := f.do(t, c.method, c.path, c.user, c.pass, c.body)
			msg, _ := out["error"].(string)
			if code != c.code || !strings.Contains(msg, c.want) {
				t.Errorf("%s %s %.40q: %d %q; want %d with %q", c.method, c.path, c.body, code, msg, c.code, c.want)
			}
		}
		if jobs, _ := st.Webhooks(t.Context(), false, 10); len(jobs) != 0 {
			t.Errorf("refused requests queued %v", jobs)
		}
	})
}

// TestSharedLockOut: failures at another door (SMTP AUTH calls the same
// Authenticator) lock the API out too, even with the right password.
func TestSharedLockOut(t *testing.T) {
	each(t, func(t *testing.T, st backend) {
		f := setup(t, st)
		client := netip.MustParseAddr("127.0.0.1")
		for range 10 {
			f.login.Login(t.Context(), auth.Attempt{User: "admin@acme.test", Password: "wrong", Client: client})
		}
		code, out := f.do(t, "POST", optoutapi.Path, "admin@acme.test", password, `{"address": "a@b.fr", "reason": "x"}`)
		if code != http.StatusTooManyRequests {
			t.Fatalf("after 10 failures elsewhere: %d %v; want 429", code, out)
		}
		if ok, _ := suppression.NewOptOuts(st, key).IsOptedOut(t.Context(), "a@b.fr"); ok {
			t.Fatal("a locked-out request opted the address out")
		}
	})
}

// TestDisabledUserRefused: a disabled admin's right password is refused
// as a wrong one, and nothing is opted out.
func TestDisabledUserRefused(t *testing.T) {
	each(t, func(t *testing.T, st backend) {
		f := setup(t, st)
		users := st.(store.Users)
		u, _ := users.User(t.Context(), "admin@acme.test")
		u.Disabled = true
		if err := users.UpdateUser(t.Context(), u); err != nil {
			t.Fatal(err)
		}
		right, _ := f.do(t, "POST", optoutapi.Path, "admin@acme.test", password, `{"address": "a@b.fr", "reason": "x"}`)
		wrong, _ := f.do(t, "POST", optoutapi.Path, "admin@acme.test", "wrong", `{"address": "a@b.fr", "reason": "x"}`)
		if right != http.StatusUnauthorized || wrong != right {
			t.Fatalf("disabled admin: %d with the right password, %d with a wrong one; want 401 both", right, wrong)
		}
		if ok, _ := suppression.NewOptOuts(st, key).IsOptedOut(t.Context(), "a@b.fr"); ok {
			t.Fatal("a disabled user opted the address out")
		}
	})
}
