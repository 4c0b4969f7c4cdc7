package storetest

import (
	"context"
	"errors"
	"net/netip"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/dncgate/dncgate/auth"
	"github.com/dncgate/dncgate/store"
)

func runAttempts(t *testing.T, open func(*testing.T) Harness) {
	t.Run("RefusedAtLimit", func(t *testing.T) { testAttemptLimit(t, open(t)) })
	t.Run("AllOrNone", func(t *testing.T) { testAttemptAllOrNone(t, open(t)) })
	t.Run("Parallel", func(t *testing.T) { testAttemptParallel(t, open(t)) })
	t.Run("Settle", func(t *testing.T) { testAttemptSettle(t, open(t)) })
	t.Run("WindowExpiry", func(t *testing.T) { testAttemptExpiry(t, open(t)) })
	t.Run("ParallelLogins", func(t *testing.T) { testParallelLogins(t, open(t)) })
}

func reserveAt(t *testing.T, h Harness, limits map[string]int64, order ...string) ([]int64, bool) {
	t.Helper()
	keys := make([]store.AttemptKey, len(order))
	for i, k := range order {
		keys[i] = store.AttemptKey{Key: k, Limit: limits[k]}
	}
	counts, ok, err := h.Store.ReserveAttempt(t.Context(), keys, h.ttl())
	if err != nil {
		t.Fatalf("ReserveAttempt(%v): %v", order, err)
	}
	return counts, ok
}

// peek reads counts: a limit of 0 refuses at once and counts nothing.
func peek(t *testing.T, h Harness, order ...string) []int64 {
	t.Helper()
	counts, ok := reserveAt(t, h, nil, order...)
	if ok {
		t.Fatal("a reservation with limit 0 was counted")
	}
	return counts
}

func testAttemptLimit(t *testing.T, h Harness) {
	lim := map[string]int64{"a": 3}
	for want := int64(0); want < 3; want++ {
		if counts, ok := reserveAt(t, h, lim, "a"); !ok || counts[0] != want {
			t.Fatalf("attempt %d: ok=%v counts=%v, want counted after %d", want+1, ok, counts, want)
		}
	}
	for range 2 {
		if counts, ok := reserveAt(t, h, lim, "a"); ok || counts[0] != 3 {
			t.Fatalf("attempt over the limit: ok=%v counts=%v, want refused at 3", ok, counts)
		}
	}
	if got := peek(t, h, "a"); got[0] != 3 {
		t.Fatalf("refused attempts were counted: %v", got)
	}
}

func testAttemptAllOrNone(t *testing.T, h Harness) {
	lim := map[string]int64{"full": 1, "other": 10}
	reserveAt(t, h, lim, "full")
	if counts, ok := reserveAt(t, h, lim, "other", "full"); ok || !slices.Equal(counts, []int64{0, 1}) {
		t.Fatalf("reservation with one full key: ok=%v counts=%v, want refused, [0 1]", ok, counts)
	}
	if got := peek(t, h, "other"); got[0] != 0 {
		t.Fatalf("a refused reservation counted %d on its other key", got[0])
	}
}

// testAttemptParallel: however many attempts arrive at once, no more than
// the limit are counted in.
func testAttemptParallel(t *testing.T, h Harness) {
	const n, limit = 200, 10
	lim := map[string]int64{"pair": limit, "client": 1000, "user": 1000}
	var counted atomic.Int64
	errs := parallel(n, func(int) error {
		keys := []store.AttemptKey{{Key: "pair", Limit: lim["pair"]}, {Key: "client", Limit: 1000}, {Key: "user", Limit: 1000}}
		_, ok, err := h.Store.ReserveAttempt(context.Background(), keys, h.ttl()*20)
		if ok {
			counted.Add(1)
		}
		return err
	})
	if err := errors.Join(errs...); err != nil {
		t.Fatalf("parallel ReserveAttempt: %v", err)
	}
	if counted.Load() != limit {
		t.Fatalf("%d of %d parallel attempts were let through, want exactly %d", counted.Load(), n, limit)
	}
	if got := peek(t, h, "pair", "client", "user"); !slices.Equal(got, []int64{limit, limit, limit}) {
		t.Fatalf("counts after the burst = %v, want %d each", got, limit)
	}
}

func testAttemptSettle(t *testing.T, h Harness) {
	lim := map[string]int64{"p": 10, "c": 10, "u": 10}
	for range 3 {
		reserveAt(t, h, lim, "p", "c", "u")
	}
	if err := h.Store.SettleAttempt(t.Context(), []string{"p"}, []string{"c", "never"}); err != nil {
		t.Fatalf("SettleAttempt: %v", err)
	}
	if got := peek(t, h, "p", "c", "u", "never"); !slices.Equal(got, []int64{0, 2, 3, 0}) {
		t.Fatalf("counts after settling = %v, want [0 2 3 0]", got)
	}
	for range 3 {
		if err := h.Store.SettleAttempt(t.Context(), nil, []string{"c"}); err != nil {
			t.Fatalf("SettleAttempt: %v", err)
		}
	}
	if got := peek(t, h, "c"); got[0] != 0 {
		t.Fatalf("giving back more than was counted left %d", got[0])
	}
	if counts, ok := reserveAt(t, h, lim, "c"); !ok || counts[0] != 0 {
		t.Fatalf("after giving back: ok=%v counts=%v, want counted after 0", ok, counts)
	}
	if err := h.Store.SettleAttempt(t.Context(), nil, nil); err != nil {
		t.Fatalf("SettleAttempt of nothing: %v", err)
	}
}

func testAttemptExpiry(t *testing.T, h Harness) {
	lim := map[string]int64{"a": 1}
	reserveAt(t, h, lim, "a")
	h.passTTL(t, h.ttl(), func() bool { return peek(t, h, "a")[0] > 0 })
	if _, ok := reserveAt(t, h, lim, "a"); !ok {
		t.Fatal("refused after the window ended")
	}
	if _, _, err := h.Store.ReserveAttempt(t.Context(), []store.AttemptKey{{Key: "a", Limit: 1}}, 0); err == nil {
		t.Fatal("ReserveAttempt with a zero window succeeded")
	}
}

// testParallelLogins: 200 wrong passwords at once against block_after = 10
// run at most 10 password checks, and the right password is refused
// afterwards.
func testParallelLogins(t *testing.T, h Harness) {
	const name, right = "alice@example.fr", "the right password"
	hash, err := bcrypt.GenerateFromPassword([]byte(right), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	mustAdd(t, h.Store, store.User{Email: name, Role: store.RoleRep, PasswordHash: hash})
	var checks atomic.Int64
	a, err := auth.New(auth.Options{
		Users: h.Store, Attempts: h.Store, Cost: bcrypt.MinCost, Workers: 4,
		Limits:    auth.Limits{Window: h.ttl() * 20, SlowAfter: 10, BlockAfter: 10},
		Wait:      func(context.Context, time.Duration) error { return nil },
		OnCompare: func() { checks.Add(1) },
	})
	if err != nil {
		t.Fatal(err)
	}
	client := netip.MustParseAddr("198.51.100.7")
	outcomes := make([]auth.Outcome, 200)
	parallel(len(outcomes), func(i int) error {
		outcomes[i] = a.Login(context.Background(), auth.Attempt{User: name, Password: "guess", Client: client}).Outcome
		return nil
	})
	if n := checks.Load(); n > 10 {
		t.Fatalf("200 parallel attempts ran %d password checks, want at most 10", n)
	}
	if n := outcomesOf(outcomes, auth.Refused); n != int(checks.Load()) {
		t.Fatalf("%d attempts refused as wrong after %d checks", n, checks.Load())
	}
	if r := a.Login(t.Context(), auth.Attempt{User: name, Password: right, Client: client}); r.Outcome != auth.Locked {
		t.Fatalf("right password after the burst: %v (%v), want locked", r.Outcome, r.Cause)
	}
	other := netip.MustParseAddr("203.0.113.9")
	if r := a.Login(t.Context(), auth.Attempt{User: name, Password: right, Client: other}); r.Outcome != auth.Accepted {
		t.Fatalf("right password from another client: %v (%v), want accepted", r.Outcome, r.Cause)
	}
}

func outcomesOf(got []auth.Outcome, want auth.Outcome) int {
	n := 0
	for _, o := range got {
		if o == want {
			n++
		}
	}
	return n
}
