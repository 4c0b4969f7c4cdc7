package storetest

import (
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dncgate/dncgate/caps"
)

// capEpoch starts the cap tests' time. Whole milliseconds: Redis keeps
// times as millisecond scores, and the suite asks both stores for the same
// exact answers.
var capEpoch = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

const (
	capWindow = 30 * 24 * time.Hour
	capHold   = 10 * time.Minute
	ms        = time.Millisecond
)

// capKeys gives every test, and every rapid run, keys of its own, so one
// store may serve several tests.
var capKeys atomic.Int64

func newCapKey() string { return fmt.Sprintf("cap%d", capKeys.Add(1)) }

// RunCaps runs the contract of caps.Store. open returns a store the test
// may use; it need not be empty, the suite uses fresh keys.
func RunCaps(t *testing.T, open func(t *testing.T) caps.Store) {
	t.Run("WindowBoundary", func(t *testing.T) { testCapWindowBoundary(t, open(t)) })
	t.Run("HoldExpiry", func(t *testing.T) { testCapHoldExpiry(t, open(t)) })
	t.Run("ReleaseFreesAtOnce", func(t *testing.T) { testCapRelease(t, open(t)) })
	t.Run("CommitAfterExpiryCounts", func(t *testing.T) { testCapLateCommit(t, open(t)) })
	t.Run("IdempotentIDs", func(t *testing.T) { testCapIdempotent(t, open(t)) })
	t.Run("HoldExtendedOnRegrant", func(t *testing.T) { testCapRegrantExtends(t, open(t)) })
	t.Run("AllOrNothing", func(t *testing.T) { testCapAllOrNothing(t, open(t)) })
	t.Run("KeysIndependent", func(t *testing.T) { testCapKeysIndependent(t, open(t)) })
	t.Run("ManyKeysPerCall", func(t *testing.T) { testCapManyKeys(t, open(t)) })
	t.Run("UsageAndNextSlot", func(t *testing.T) { testCapUsage(t, open(t)) })
	t.Run("Reset", func(t *testing.T) { testCapReset(t, open(t)) })
	t.Run("BadRequests", func(t *testing.T) { testCapBadRequests(t, open(t)) })
	t.Run("Concurrent", func(t *testing.T) { testCapConcurrent(t, open(t)) })
	t.Run("ReleaseKeepsSends", func(t *testing.T) { testCapReleaseKeepsSends(t, open(t)) })
	t.Run("Property", func(t *testing.T) { testCapProperty(t, open(t)) })
}

// capReq is a request on key for id with the suite's window and hold.
func capReq(key, id string, limit int) caps.Request {
	return caps.Request{Slot: capSlot(key, id), Limit: limit}
}

func capSlot(key, id string) caps.Slot {
	return caps.Slot{Key: key, ID: id, Window: capWindow, Hold: capHold}
}

func reserve(t *testing.T, st caps.Store, now time.Time, reqs ...caps.Request) []caps.Reservation {
	t.Helper()
	res, err := st.Reserve(t.Context(), reqs, now)
	if err != nil {
		t.Fatalf("Reserve: %v", err)
	}
	if len(res) != len(reqs) {
		t.Fatalf("Reserve returned %d results for %d requests", len(res), len(reqs))
	}
	return res
}

// reserveOne reserves one slot and checks whether it was granted.
func reserveOne(t *testing.T, st caps.Store, now time.Time, r caps.Request, wantOK bool) caps.Reservation {
	t.Helper()
	res := reserve(t, st, now, r)[0]
	if res.OK != wantOK {
		t.Fatalf("Reserve(%s, limit %d) at +%s = %+v, want OK=%v", r.ID, r.Limit, now.Sub(capEpoch), res, wantOK)
	}
	if res.Limit != r.Limit {
		t.Fatalf("Reserve reports limit %d, want %d", res.Limit, r.Limit)
	}
	return res
}

func commit(t *testing.T, st caps.Store, now time.Time, slots ...caps.Slot) {
	t.Helper()
	if err := st.Commit(t.Context(), slots, now); err != nil {
		t.Fatalf("Commit: %v", err)
	}
}

func release(t *testing.T, st caps.Store, slots ...caps.Slot) {
	t.Helper()
	if err := st.Release(t.Context(), slots); err != nil {
		t.Fatalf("Release: %v", err)
	}
}

func usage(t *testing.T, st caps.Store, key string, limit int, now time.Time) caps.Reservation {
	t.Helper()
	u, err := st.Usage(t.Context(), key, limit, capWindow, now)
	if err != nil {
		t.Fatalf("Usage: %v", err)
	}
	return u
}

func wantRefusal(t *testing.T, got caps.Reservation, count int, next time.Time) {
	t.Helper()
	if got.OK || got.Count != count || !got.NextSlot.Equal(next) {
		t.Fatalf("got %+v, want a refusal with count %d and next slot +%s (%s)",
			got, count, next.Sub(capEpoch), next)
	}
}

// testCapWindowBoundary: a send at t counts until t+window, not at it.
func testCapWindowBoundary(t *testing.T, st caps.Store) {
	k, t0 := newCapKey(), capEpoch
	reserveOne(t, st, t0, capReq(k, "a", 1), true)
	commit(t, st, t0, capSlot(k, "a"))
	res := reserveOne(t, st, t0.Add(capWindow-ms), capReq(k, "b", 1), false)
	wantRefusal(t, res, 1, t0.Add(capWindow))
	if res := reserveOne(t, st, t0.Add(capWindow), capReq(k, "b", 1), true); res.Count != 1 {
		t.Fatalf("count after the first send left the window = %d, want 1 (this hold)", res.Count)
	}
}

// testCapHoldExpiry: an uncommitted hold counts until now+hold.
func testCapHoldExpiry(t *testing.T, st caps.Store) {
	k, t0 := newCapKey(), capEpoch
	reserveOne(t, st, t0, capReq(k, "a", 1), true)
	res := reserveOne(t, st, t0.Add(capHold-ms), capReq(k, "b", 1), false)
	wantRefusal(t, res, 1, t0.Add(capHold))
	reserveOne(t, st, t0.Add(capHold), capReq(k, "b", 1), true)
}

func testCapRelease(t *testing.T, st caps.Store) {
	k, t0 := newCapKey(), capEpoch
	reserveOne(t, st, t0, capReq(k, "a", 1), true)
	reserveOne(t, st, t0, capReq(k, "b", 1), false)
	release(t, st, capSlot(k, "a"))
	reserveOne(t, st, t0, capReq(k, "b", 1), true)
	release(t, st, capSlot(k, "never-held")) // no error
}

// testCapLateCommit: a commit after the hold expired still counts, from
// the commit's time.
func testCapLateCommit(t *testing.T, st caps.Store) {
	k, t0 := newCapKey(), capEpoch
	reserveOne(t, st, t0, capReq(k, "a", 1), true)
	late := t0.Add(capHold + time.Minute)
	commit(t, st, late, capSlot(k, "a"))
	wantRefusal(t, usage(t, st, k, 1, late), 1, late.Add(capWindow))
	res := reserveOne(t, st, late.Add(time.Hour), capReq(k, "b", 1), false)
	wantRefusal(t, res, 1, late.Add(capWindow))
	// A commit without any hold is recorded too.
	k2 := newCapKey()
	commit(t, st, t0, capSlot(k2, "x"))
	if u := usage(t, st, k2, 5, t0); u.Count != 1 {
		t.Fatalf("count after a commit without a hold = %d, want 1", u.Count)
	}
}

// testCapIdempotent: one id holds one place whether held, re-held or sent.
func testCapIdempotent(t *testing.T, st caps.Store) {
	k, t0 := newCapKey(), capEpoch
	reserveOne(t, st, t0, capReq(k, "m", 1), true)
	if res := reserveOne(t, st, t0.Add(time.Second), capReq(k, "m", 1), true); res.Count != 1 {
		t.Fatalf("re-reserving a held id counts %d, want 1", res.Count)
	}
	commit(t, st, t0.Add(time.Minute), capSlot(k, "m"))
	if res := reserveOne(t, st, t0.Add(2*time.Minute), capReq(k, "m", 1), true); res.Count != 1 {
		t.Fatalf("re-reserving a sent id counts %d, want 1", res.Count)
	}
	commit(t, st, t0.Add(3*time.Minute), capSlot(k, "m"))
	// The first commit's time stands: the send leaves the window then.
	wantRefusal(t, usage(t, st, k, 1, t0.Add(4*time.Minute)), 1, t0.Add(time.Minute+capWindow))
	reserveOne(t, st, t0.Add(4*time.Minute), capReq(k, "other", 1), false)
	if u := usage(t, st, k, 1, t0.Add(time.Minute+capWindow)); !u.OK || u.Count != 0 {
		t.Fatalf("usage once the send left the window = %+v, want OK and 0", u)
	}
}

// testCapRegrantExtends: re-reserving a held id pushes its expiry to
// now+hold, so a message whose recipients arrive slowly keeps its slot.
func testCapRegrantExtends(t *testing.T, st caps.Store) {
	k, t0 := newCapKey(), capEpoch
	reserveOne(t, st, t0, capReq(k, "m", 1), true)
	t1 := t0.Add(capHold / 2)
	reserveOne(t, st, t1, capReq(k, "m", 1), true)
	res := reserveOne(t, st, t0.Add(capHold), capReq(k, "n", 1), false)
	wantRefusal(t, res, 1, t1.Add(capHold))
}

// testCapAllOrNothing: when one request is refused, the holds the call
// added are gone, and holds it only re-granted stay.
func testCapAllOrNothing(t *testing.T, st caps.Store) {
	free, full, shared, t0 := newCapKey(), newCapKey(), newCapKey(), capEpoch
	reserveOne(t, st, t0, capReq(full, "x", 1), true)
	reserveOne(t, st, t0, capReq(shared, "m", 2), true)
	res := reserve(t, st, t0, capReq(free, "m", 5), capReq(shared, "m", 2), capReq(full, "m", 1))
	if !res[0].OK || !res[1].OK || res[2].OK {
		t.Fatalf("results = %+v, want granted, granted, refused", res)
	}
	if u := usage(t, st, free, 5, t0); u.Count != 0 {
		t.Fatalf("the free key holds %d after a refused call, want 0", u.Count)
	}
	if u := usage(t, st, shared, 2, t0); u.Count != 1 {
		t.Fatalf("the shared key holds %d after a refused call, want its earlier hold (1)", u.Count)
	}
	res = reserve(t, st, t0, capReq(free, "n", 5), capReq(shared, "n", 2))
	if !res[0].OK || !res[1].OK || res[0].Count != 1 || res[1].Count != 2 {
		t.Fatalf("results = %+v, want both granted, counts 1 and 2", res)
	}
}

func testCapKeysIndependent(t *testing.T, st caps.Store) {
	a, b, t0 := newCapKey(), newCapKey(), capEpoch
	reserveOne(t, st, t0, capReq(a, "m", 1), true)
	commit(t, st, t0, capSlot(a, "m"))
	if res := reserveOne(t, st, t0, capReq(b, "m", 1), true); res.Count != 1 {
		t.Fatalf("another key counts %d, want 1", res.Count)
	}
}

// testCapManyKeys: one call reserves, commits and releases slots of
// several keys (on a cluster, keys of different slots and nodes).
func testCapManyKeys(t *testing.T, st caps.Store) {
	const n = 8
	t0 := capEpoch
	var reqs []caps.Request
	var slots []caps.Slot
	for range n {
		r := capReq(newCapKey(), "m", 1)
		reqs, slots = append(reqs, r), append(slots, r.Slot)
	}
	for i, res := range reserve(t, st, t0, reqs...) {
		if !res.OK || res.Count != 1 {
			t.Fatalf("key %d: %+v, want granted with count 1", i, res)
		}
	}
	commit(t, st, t0, slots[:n/2]...)
	release(t, st, slots[n/2:]...)
	for i, sl := range slots {
		committed, want := i < n/2, 0
		if committed {
			want = 1
		}
		if u := usage(t, st, sl.Key, 1, t0); u.Count != want || u.OK == committed {
			t.Fatalf("key %d (committed: %v): %+v, want count %d", i, committed, u, want)
		}
	}
}

// testCapUsage checks counts and the next slot when sends and holds share
// the cap, also for a limit lowered below the count.
func testCapUsage(t *testing.T, st caps.Store) {
	k, t0 := newCapKey(), capEpoch
	if u := usage(t, st, k, 3, t0); !u.OK || u.Count != 0 || u.Limit != 3 || !u.NextSlot.IsZero() {
		t.Fatalf("usage of an unused key = %+v", u)
	}
	s1, s2, h := t0, t0.Add(time.Hour), t0.Add(2*time.Hour)
	for _, at := range []time.Time{s1, s2} {
		id := at.String()
		reserveOne(t, st, at, capReq(k, id, 3), true)
		commit(t, st, at, capSlot(k, id))
	}
	reserveOne(t, st, h, capReq(k, "held", 3), true)
	now := h.Add(time.Minute)
	if u := usage(t, st, k, 4, now); !u.OK || u.Count != 3 {
		t.Fatalf("usage under the limit = %+v, want OK and 3", u)
	}
	wantRefusal(t, usage(t, st, k, 3, now), 3, s1.Add(capWindow))
	wantRefusal(t, usage(t, st, k, 2, now), 3, s2.Add(capWindow))
	// Holds alone fill a limit of 1 once both sends are gone: the later
	// of the last send leaving and the hold expiring.
	wantRefusal(t, usage(t, st, k, 1, now), 3, s2.Add(capWindow))
	later := s2.Add(capWindow)
	if u := usage(t, st, k, 1, later); !u.OK || u.Count != 0 {
		t.Fatalf("usage once sends left and the hold expired = %+v", u)
	}
	// Usage changed nothing: a reservation still sees both sends.
	wantRefusal(t, reserveOne(t, st, now, capReq(k, "new", 3), false), 3, s1.Add(capWindow))
}

func testCapReset(t *testing.T, st caps.Store) {
	k, t0 := newCapKey(), capEpoch
	reserveOne(t, st, t0, capReq(k, "a", 2), true)
	commit(t, st, t0, capSlot(k, "a"))
	reserveOne(t, st, t0, capReq(k, "b", 2), true)
	if err := st.Reset(t.Context(), k); err != nil {
		t.Fatalf("Reset: %v", err)
	}
	if u := usage(t, st, k, 2, t0); u.Count != 0 {
		t.Fatalf("usage after Reset = %+v", u)
	}
	if err := st.Reset(t.Context(), newCapKey()); err != nil {
		t.Fatalf("Reset of an unused key: %v", err)
	}
}

func testCapBadRequests(t *testing.T, st caps.Store) {
	good := capReq(newCapKey(), "a", 1)
	bad := map[string]caps.Request{}
	for name, change := range map[string]func(*caps.Request){
		"no key":      func(r *caps.Request) { r.Key = "" },
		"no id":       func(r *caps.Request) { r.ID = "" },
		"limit 0":     func(r *caps.Request) { r.Limit = 0 },
		"zero window": func(r *caps.Request) { r.Window = 0 },
		"zero hold":   func(r *caps.Request) { r.Hold = 0 },
		"same key":    func(r *caps.Request) { r.ID = "b" },
	} {
		r := good
		change(&r)
		bad[name] = r
	}
	for name, r := range bad {
		if _, err := st.Reserve(t.Context(), []caps.Request{good, r}, capEpoch); err == nil {
			t.Errorf("Reserve with %s succeeded", name)
		}
	}
	if u := usage(t, st, good.Key, 1, capEpoch); u.Count != 0 {
		t.Fatalf("a refused call left %d holds", u.Count)
	}
	if err := st.Commit(t.Context(), []caps.Slot{{Key: good.Key, Window: capWindow, Hold: capHold}}, capEpoch); err == nil {
		t.Error("Commit without an id succeeded")
	}
	if _, err := st.Usage(t.Context(), good.Key, 1, 0, capEpoch); err == nil {
		t.Error("Usage with a zero window succeeded")
	}
	if res, err := st.Reserve(t.Context(), nil, capEpoch); err != nil || len(res) != 0 {
		t.Errorf("Reserve of nothing = %v, %v", res, err)
	}
}

// testCapConcurrent: many reservations of one key at once, each committed
// when granted; exactly limit get through.
func testCapConcurrent(t *testing.T, st caps.Store) {
	const n, limit = 200, 3
	k := newCapKey()
	var granted atomic.Int64
	errs := parallel(n, func(i int) error {
		r := capReq(k, fmt.Sprintf("m%d", i), limit)
		res, err := st.Reserve(t.Context(), []caps.Request{r}, capEpoch)
		if err != nil || !res[0].OK {
			return err
		}
		granted.Add(1)
		return st.Commit(t.Context(), []caps.Slot{r.Slot}, capEpoch)
	})
	if err := errors.Join(errs...); err != nil {
		t.Fatalf("concurrent reservations: %v", err)
	}
	if g := granted.Load(); g != limit {
		t.Fatalf("%d of %d concurrent reservations granted, want %d", g, n, limit)
	}
	if u := usage(t, st, k, limit, capEpoch); u.Count != limit {
		t.Fatalf("count after the rush = %d, want %d", u.Count, limit)
	}
}

// testCapReleaseKeepsSends: releasing an id that was committed, or that
// was sent and then held again, leaves the send counted.
func testCapReleaseKeepsSends(t *testing.T, st caps.Store) {
	k, t0 := newCapKey(), capEpoch
	reserveOne(t, st, t0, capReq(k, "a", 2), true)
	commit(t, st, t0, capSlot(k, "a"))
	release(t, st, capSlot(k, "a"))
	reserveOne(t, st, t0, capReq(k, "a", 2), true) // granted again: already sent
	release(t, st, capSlot(k, "a"))
	if u := usage(t, st, k, 2, t0); u.Count != 1 {
		t.Fatalf("count after releasing a sent id = %d, want 1", u.Count)
	}
	// Released and committed in one go, as when one recipient of a message
	// was refused upstream and another accepted.
	reserveOne(t, st, t0, capReq(k, "b", 2), true)
	commit(t, st, t0, capSlot(k, "b"))
	release(t, st, capSlot(k, "b"), capSlot(k, "a"))
	wantRefusal(t, usage(t, st, k, 2, t0), 2, t0.Add(capWindow))
}
