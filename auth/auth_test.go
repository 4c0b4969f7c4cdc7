package auth

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/dncgate/dncgate/store"
	"github.com/dncgate/dncgate/store/embedded"
)

const (
	rep      = "rep@acme.fr"
	password = "correct horse"
)

var client = netip.MustParseAddr("198.51.100.7")

// env is an Authenticator on a real embedded store with one user.
type env struct {
	a      *Authenticator
	st     *embedded.Store
	checks atomic.Int64
	waits  []time.Duration
	mu     sync.Mutex
}

func newEnv(t *testing.T, lim Limits, tweak ...func(*Options)) *env {
	t.Helper()
	st, err := embedded.Open(filepath.Join(t.TempDir(), "d.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	addUser(t, st, rep, password, bcrypt.MinCost)
	e := &env{st: st}
	o := Options{
		Users: st, Attempts: st, Limits: lim, Cost: bcrypt.MinCost,
		OnCompare: func() { e.checks.Add(1) },
		Wait: func(_ context.Context, d time.Duration) error {
			e.mu.Lock()
			defer e.mu.Unlock()
			e.waits = append(e.waits, d)
			return nil
		},
	}
	for _, f := range tweak {
		f(&o)
	}
	if e.a, err = New(o); err != nil {
		t.Fatal(err)
	}
	return e
}

func addUser(t *testing.T, st store.Users, name, pw string, cost int) {
	t.Helper()
	h, err := bcrypt.GenerateFromPassword([]byte(pw), cost)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.AddUser(t.Context(), store.User{Email: name, Role: store.RoleRep, PasswordHash: h}); err != nil {
		t.Fatal(err)
	}
}

func (e *env) login(t *testing.T, name, pw string, from netip.Addr) Result {
	t.Helper()
	return e.a.Login(t.Context(), Attempt{User: name, Password: pw, Client: from})
}

func TestLoginOutcomes(t *testing.T) {
	e := newEnv(t, Limits{})
	if r := e.login(t, " Rep@Acme.FR ", password, client); r.Outcome != Accepted || r.User.Email != rep || r.Name != rep {
		t.Fatalf("right password: %+v", r)
	}
	if r := e.login(t, rep, "guess", client); r.Outcome != Refused || !errors.Is(r.Cause, ErrWrongPassword) {
		t.Fatalf("wrong password: %+v", r)
	}
	before := e.checks.Load()
	if r := e.login(t, "who@acme.fr", password, client); r.Outcome != Refused || !errors.Is(r.Cause, ErrUnknownUser) {
		t.Fatalf("unknown user: %+v", r)
	}
	if e.checks.Load() != before+1 {
		t.Fatalf("an unknown user ran %d comparisons, want 1 like a known one", e.checks.Load()-before)
	}
}

// TestStandInCost: the stand-in is made at start at the stored hashes'
// cost, so the very first unknown name costs what a known one does; a
// user stored at another cost brings a stand-in at that cost.
func TestStandInCost(t *testing.T) {
	e := newEnv(t, Limits{}, func(o *Options) { o.Cost = 6 })
	if c, err := bcrypt.Cost(e.a.stand.hash()); err != nil || c != 6 {
		t.Fatalf("stand-in cost before any login = %d, %v; want 6", c, err)
	}
	addUser(t, e.st, "other@acme.fr", password, 5)
	e.login(t, "other@acme.fr", "guess", client)
	deadline := time.Now().Add(5 * time.Second)
	for {
		if c, _ := bcrypt.Cost(e.a.stand.hash()); c == 5 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no stand-in at the cost of the user seen")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if c, _ := bcrypt.Cost(mustNew(t, e.st).stand.hash()); c != DefaultCost {
		t.Fatalf("default stand-in cost %d, want %d", c, DefaultCost)
	}
}

func mustNew(t *testing.T, st *embedded.Store) *Authenticator {
	a, err := New(Options{Users: st, Attempts: st})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// TestLockedCostsNothing: once blocked, even the right password is refused
// and no attempt costs a comparison.
func TestLockedCostsNothing(t *testing.T) {
	e := newEnv(t, Limits{SlowAfter: 2, BlockAfter: 4, MaxDelay: 4 * time.Second})
	for i := range 4 {
		if r := e.login(t, rep, "guess", client); r.Outcome != Refused {
			t.Fatalf("failure %d: %+v", i+1, r)
		}
	}
	if want := []time.Duration{time.Second, 2 * time.Second}; fmt.Sprint(e.waits) != fmt.Sprint(want) {
		t.Errorf("delays %v, want %v", e.waits, want)
	}
	checks := e.checks.Load()
	for range 5 {
		if r := e.login(t, rep, password, client); r.Outcome != Locked || r.RetryAfter != defaultWindow ||
			r.Cause.Error() != "4 failures of the user from this client in the window" {
			t.Fatalf("right password while blocked: %+v", r)
		}
	}
	if e.checks.Load() != checks {
		t.Fatalf("locked attempts ran %d comparisons", e.checks.Load()-checks)
	}
}

// TestLockOutIsPerPair: one client's failures do not lock the user out
// for the others; only many clients' failures block the name everywhere.
func TestLockOutIsPerPair(t *testing.T) {
	e := newEnv(t, Limits{SlowAfter: 2, BlockAfter: 2, UserBlockAfter: 6})
	addr := func(i int) netip.Addr { return netip.AddrFrom4([4]byte{192, 0, 2, byte(i)}) }
	for range 2 {
		e.login(t, rep, "guess", addr(1))
	}
	if r := e.login(t, rep, password, addr(1)); r.Outcome != Locked {
		t.Fatalf("the guessing client: %v", r.Outcome)
	}
	if r := e.login(t, rep, password, addr(2)); r.Outcome != Accepted {
		t.Fatalf("another client locked out by one client's failures: %v", r.Outcome)
	}
	for i := 3; i < 7; i++ {
		e.login(t, rep, "guess", addr(i))
	}
	if r := e.login(t, rep, password, addr(9)); r.Outcome != Locked {
		t.Fatalf("after 6 failures from many clients: %v, want the name blocked", r.Outcome)
	}
}

// TestClientBlock: one client guessing at many names is stopped at
// ClientBlockAfter, for every name.
func TestClientBlock(t *testing.T) {
	e := newEnv(t, Limits{SlowAfter: 3, BlockAfter: 3, ClientBlockAfter: 5})
	for i := range 5 {
		if r := e.login(t, fmt.Sprintf("u%d@acme.fr", i), "guess", client); r.Outcome != Refused {
			t.Fatalf("name %d: %v", i, r.Outcome)
		}
	}
	if r := e.login(t, rep, password, client); r.Outcome != Locked {
		t.Fatalf("after 5 failures on other names: %v, want the client blocked", r.Outcome)
	}
	if r := e.login(t, rep, password, netip.MustParseAddr("2001:db8::1")); r.Outcome != Accepted {
		t.Fatalf("another client: %v", r.Outcome)
	}
}

// TestSuccessGivesBack: a right password forgets the pair's failures and
// is not counted against the client or the name.
func TestSuccessGivesBack(t *testing.T) {
	e := newEnv(t, Limits{SlowAfter: 5, BlockAfter: 5})
	e.login(t, rep, "guess", client)
	for range 3 {
		if r := e.login(t, rep, password, client); r.Outcome != Accepted {
			t.Fatal(r.Outcome)
		}
	}
	k := newKeys(client, rep)
	counts, _, err := e.st.ReserveAttempt(t.Context(), []store.AttemptKey{{Key: k.pair}, {Key: k.client}, {Key: k.user}}, time.Hour)
	if err != nil || fmt.Sprint(counts) != "[0 1 1]" {
		t.Fatalf("counts after one failure and three successes = %v, %v; want [0 1 1]", counts, err)
	}
}

// TestStoreDownNotCounted: a user lookup that fails is Unavailable and the
// attempt is given back.
func TestStoreDownNotCounted(t *testing.T) {
	e := newEnv(t, Limits{SlowAfter: 1, BlockAfter: 1}, func(o *Options) { o.Users = failingUsers{} })
	for range 3 {
		if r := e.login(t, rep, password, client); r.Outcome != Unavailable {
			t.Fatalf("store down: %v", r.Outcome)
		}
	}
	e.st.Close()
	if r := e.login(t, rep, password, client); r.Outcome != Unavailable {
		t.Fatalf("attempts store closed: %v", r.Outcome)
	}
}

type failingUsers struct{}

func (failingUsers) User(context.Context, string) (store.User, error) {
	return store.User{}, errors.New("store unreachable")
}

// TestPoolBounds: no more comparisons run at once than Workers.
func TestPoolBounds(t *testing.T) {
	var running, most atomic.Int64
	e := newEnv(t, Limits{}, func(o *Options) {
		o.Workers = 2
		o.OnCompare = func() {
			n := running.Add(1)
			for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
			}
			time.Sleep(20 * time.Millisecond)
			running.Add(-1)
		}
	})
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() { e.login(t, rep, password, netip.AddrFrom4([4]byte{192, 0, 2, byte(i)})) })
	}
	wg.Wait()
	if most.Load() != 2 {
		t.Fatalf("%d comparisons ran at once, want 2 (the pool's size)", most.Load())
	}
}

// TestRemembered: a recent success costs no comparison; a changed
// password is not remembered.
func TestRemembered(t *testing.T) {
	e := newEnv(t, Limits{}, func(o *Options) { o.Remember = time.Minute })
	e.login(t, rep, password, client)
	n := e.checks.Load()
	if r := e.login(t, rep, password, client); r.Outcome != Accepted || e.checks.Load() != n {
		t.Fatalf("remembered login: %v after %d comparisons", r.Outcome, e.checks.Load()-n)
	}
	u, _ := e.st.User(t.Context(), rep)
	u.PasswordHash, _ = bcrypt.GenerateFromPassword([]byte("new password!"), bcrypt.MinCost)
	if err := e.st.UpdateUser(t.Context(), u); err != nil {
		t.Fatal(err)
	}
	if r := e.login(t, rep, password, client); r.Outcome != Refused {
		t.Fatalf("old password after a change: %v", r.Outcome)
	}
}

func TestDelay(t *testing.T) {
	l := Limits{SlowAfter: 3, BlockAfter: 10, MaxDelay: 5 * time.Second}
	for _, tc := range []struct {
		counts []int64
		want   time.Duration
	}{
		{[]int64{0, 0, 0}, 0},
		{[]int64{2, 9, 9}, 0},
		{[]int64{3, 3, 3}, time.Second},
		{[]int64{4, 4, 4}, 2 * time.Second},
		{[]int64{5, 5, 5}, 4 * time.Second},
		{[]int64{60, 60, 60}, 5 * time.Second},
		{[]int64{0, 0, 11}, 2 * time.Second}, // a name guessed at from everywhere is slowed
		{[]int64{3}, 0},                      // client only: slowed from BlockAfter
		{[]int64{10}, time.Second},
	} {
		if got := l.delay(tc.counts); got != tc.want {
			t.Errorf("delay(%v) = %v, want %v", tc.counts, got, tc.want)
		}
	}
	l.MaxDelay = 300 * time.Millisecond
	if got := l.delay([]int64{3, 0, 0}); got != 300*time.Millisecond {
		t.Errorf("small MaxDelay: %v", got)
	}
}

func TestKeys(t *testing.T) {
	k := newKeys(netip.MustParseAddr("2001:db8:1:2:3:4:5:6"), rep)
	if k.client != "auth:client:2001:db8:1:2::/64" || k.pair != "auth:pair:2001:db8:1:2::/64|"+rep || k.user != "auth:user:"+rep {
		t.Errorf("keys %+v", k)
	}
	if k := newKeys(netip.MustParseAddr("::ffff:192.0.2.1"), string(make([]byte, 300))); k.pair != "" || k.client != "auth:client:192.0.2.1/32" || len(k.limits(Limits{})) != 1 {
		t.Errorf("overlong name gave keys %+v", k)
	}
}
