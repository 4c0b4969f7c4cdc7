// Package storetest is the contract every store.Store implementation must
// pass; each implementation runs it from its own tests.
package storetest

import (
	"sync"
	"testing"
	"time"

	"github.com/dncgate/dncgate/store"
)

// Harness is one fresh, empty store handed to a contract test.
type Harness struct {
	Store store.Store
	// Advance moves the store's clock forward. Leave it nil when expiry
	// follows real time (Redis keeps TTLs on the server): the suite then
	// uses short real TTLs and polls, boundedly, until they have passed.
	Advance func(d time.Duration)
	// DropIdentity deletes the identity record behind the store's back, as
	// a flush would; nil skips the checks that need it.
	DropIdentity func(t *testing.T)
}

const (
	// realTTL is the TTL used when time cannot be moved: short enough to
	// keep the suite quick, long enough to be above timer granularity.
	realTTL = 150 * time.Millisecond
	// expiryGrace bounds the polling for a real TTL to pass, generous for a
	// loaded machine; a store that never expires fails after it.
	expiryGrace = 5 * time.Second
	pollEvery   = 10 * time.Millisecond
	// clockTTL is the TTL used with a movable clock: long, so that a store
	// reading the wall clock instead of its clock fails the test.
	clockTTL = time.Hour
)

// Run runs the whole contract. open is called once per subtest and must
// return an empty store that the test owns; open registers its own cleanup.
func Run(t *testing.T, open func(t *testing.T) Harness) {
	t.Run("Users", func(t *testing.T) { runUsers(t, open) })
	t.Run("Deliveries", func(t *testing.T) { runDeliveries(t, open) })
	t.Run("Counters", func(t *testing.T) { runCounters(t, open) })
	t.Run("Concurrency", func(t *testing.T) { runConcurrency(t, open) })
	t.Run("Identity", func(t *testing.T) { runIdentity(t, open) })
	t.Run("Attempts", func(t *testing.T) { runAttempts(t, open) })
	t.Run("Sessions", func(t *testing.T) { runSessions(t, open) })
	t.Run("Ping", func(t *testing.T) {
		if err := open(t).Store.Ping(t.Context()); err != nil {
			t.Fatalf("Ping: %v", err)
		}
	})
}

// ttl is the lifetime the suite gives marks and windows in h.
func (h Harness) ttl() time.Duration {
	if h.Advance != nil {
		return clockTTL
	}
	return realTTL
}

// passTTL moves past ttl and checks alive goes from true to false there.
// With a clock it stops a second short of ttl first, so early expiry fails
// too; in real time it polls until alive reports false.
func (h Harness) passTTL(t *testing.T, ttl time.Duration, alive func() bool) {
	t.Helper()
	if h.Advance != nil {
		h.Advance(ttl - time.Second)
		if !alive() {
			t.Fatalf("gone a second before its ttl of %s", ttl)
		}
		h.Advance(2 * time.Second)
		if alive() {
			t.Fatalf("still there a second after its ttl of %s", ttl)
		}
		return
	}
	deadline := time.Now().Add(ttl + expiryGrace)
	for alive() {
		if time.Now().After(deadline) {
			t.Fatalf("still there %s after its ttl of %s", expiryGrace, ttl)
		}
		time.Sleep(pollEvery)
	}
}

// Clock is a movable clock for stores whose expiry reads a clock function.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock returns a clock that reads start until advanced.
func NewClock(start time.Time) *Clock { return &Clock{now: start} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}
