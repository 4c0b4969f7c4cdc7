package auth

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestDisabledRefusedLikeWrongPassword: a disabled user's right password
// gets the outcome a wrong one gets, after the same one comparison, and
// a login remembered from before the disabling is refused too.
func TestDisabledRefusedLikeWrongPassword(t *testing.T) {
	e := newEnv(t, Limits{}, func(o *Options) { o.Remember = time.Minute })
	if r := e.login(t, rep, password, client); r.Outcome != Accepted {
		t.Fatalf("enabled user: %+v", r)
	}
	u, _ := e.st.User(t.Context(), rep)
	u.Disabled = true
	if err := e.st.UpdateUser(t.Context(), u); err != nil {
		t.Fatal(err)
	}
	if r := e.login(t, rep, password, client); r.Outcome != Refused || !errors.Is(r.Cause, ErrDisabled) || r.User.Email != "" {
		t.Fatalf("remembered login of a disabled user: %+v", r)
	}
	other := newEnv(t, Limits{})
	u, _ = other.st.User(t.Context(), rep)
	u.Disabled = true
	other.st.UpdateUser(t.Context(), u)
	before := other.checks.Load()
	right := other.login(t, rep, password, client)
	wrong := other.login(t, rep, "guess", client)
	if right.Outcome != Refused || wrong.Outcome != Refused || !errors.Is(right.Cause, ErrDisabled) {
		t.Fatalf("disabled user: right password %+v, wrong one %+v", right, wrong)
	}
	if n := other.checks.Load() - before; n != 2 {
		t.Fatalf("%d comparisons for two attempts, want 2: a disabled user costs what another does", n)
	}
}

// manualClock is the Authenticator's time, moved by the test.
type manualClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *manualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *manualClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// countingLogins counts the writes and passes them on, or fails them.
type countingLogins struct {
	next Logins
	fail error
	mu   sync.Mutex
	n    int
}

func (c *countingLogins) RecordLogin(ctx context.Context, email string, at time.Time) error {
	c.mu.Lock()
	c.n++
	c.mu.Unlock()
	if c.fail != nil {
		return c.fail
	}
	return c.next.RecordLogin(ctx, email, at)
}

func (c *countingLogins) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}

// TestLastLoginOncePerInterval: the first login is written, the next ones
// within the interval are not, the first after it is; failed logins never.
func TestLastLoginOncePerInterval(t *testing.T) {
	clk := &manualClock{now: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
	logins := &countingLogins{}
	e := newEnv(t, Limits{}, func(o *Options) { o.Logins, o.Now = logins, clk.Now })
	logins.next = e.st
	e.login(t, rep, "guess", client)
	e.a.Flush()
	if logins.count() != 0 {
		t.Fatalf("a failed login wrote the last login")
	}
	e.login(t, rep, password, client)
	clk.Advance(30 * time.Second)
	e.login(t, rep, password, client)
	e.a.Flush()
	if u, _ := e.st.User(t.Context(), rep); logins.count() != 1 || !u.LastLogin.Equal(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)) {
		t.Fatalf("two logins 30 s apart: %d writes, last login %v; want 1 write of the first", logins.count(), u.LastLogin)
	}
	clk.Advance(DefaultLoginEvery)
	e.login(t, rep, password, client)
	e.a.Flush()
	if u, _ := e.st.User(t.Context(), rep); logins.count() != 2 || !u.LastLogin.Equal(clk.Now()) {
		t.Fatalf("a login after the interval: %d writes, last login %v; want 2, %v", logins.count(), u.LastLogin, clk.Now())
	}
}

// TestLastLoginFailureNeverFailsLogin: a store refusing the write leaves
// the login accepted, is reported, and the next login tries again.
func TestLastLoginFailureNeverFailsLogin(t *testing.T) {
	var mu sync.Mutex
	var failed []string
	logins := &countingLogins{fail: errors.New("store is read-only")}
	e := newEnv(t, Limits{}, func(o *Options) {
		o.Logins = logins
		o.LoginNotRecorded = func(name string, err error) {
			mu.Lock()
			defer mu.Unlock()
			failed = append(failed, name+": "+err.Error())
		}
	})
	for range 2 {
		if r := e.login(t, rep, password, client); r.Outcome != Accepted {
			t.Fatalf("login with a failing last-login write: %+v", r)
		}
		e.a.Flush()
	}
	mu.Lock()
	defer mu.Unlock()
	if logins.count() != 2 || strings.Join(failed, "|") != rep+": store is read-only|"+rep+": store is read-only" {
		t.Fatalf("%d writes, reported %q; want 2 tries, both reported", logins.count(), failed)
	}
}
