package caps

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Store keeps, per cap key, the committed sends (each with its time) and
// the live reservations (each with its expiry). Keys and ids are opaque
// strings to it. Every time is a parameter: no implementation reads a clock,
// its own or the server's, so instances must keep their clocks in step
// (NTP), and tests move time freely.
//
// A send at t counts from t until t+window, and at t+window no longer
// does. In any interval of a window's length, at most limit sends of a key
// are committed, provided every commit comes before its reservation's
// hold runs out.
type Store interface {
	// Reserve takes a hold on each request's key, all or none, atomically
	// per key: it counts the key's sends in (now-window, now] and its holds
	// alive after now (what no longer counts it may delete), and when that
	// is below the limit adds a hold with the request's id expiring at
	// now+hold. An id already
	// held or sent for the key is granted again without counting twice (a
	// live hold is extended to now+hold). When any request is refused, the
	// holds this call added are removed before it returns; holds it only
	// re-granted stay. The requests of one call name distinct keys.
	// Results are in the order of reqs.
	Reserve(ctx context.Context, reqs []Request, now time.Time) ([]Reservation, error)
	// Commit turns each slot's hold into a send at now; a slot whose hold
	// has expired or was never taken is recorded all the same, because the
	// mail has left. Committing an id already sent in the window keeps the
	// earlier send.
	Commit(ctx context.Context, slots []Slot, now time.Time) error
	// Release removes each slot's hold at once; a missing hold is no error.
	Release(ctx context.Context, slots []Slot) error
	// Usage counts key's sends in (now-window, now] plus its live holds and
	// reports, against limit, what Reserve would: OK when a slot is free,
	// else when the next one opens. It changes nothing.
	Usage(ctx context.Context, key string, limit int, window time.Duration, now time.Time) (Reservation, error)
	// Reset forgets every send and hold of key (an admin action).
	Reset(ctx context.Context, key string) error
}

// Slot names one reservation: a cap key and the id holding a place in it.
type Slot struct {
	Key    string        // keyed digest of the cap and its subject
	ID     string        // per message, or per message and recipient
	Window time.Duration // the cap's window: how long a send counts
	Hold   time.Duration // how long an uncommitted reservation lives
}

// Request asks for a slot under a limit.
type Request struct {
	Slot
	Limit int
}

// Reservation is the answer for one key. When OK is false, Count has
// reached Limit and NextSlot is when a slot opens if nothing new is held:
// when enough of the oldest counted sends have left the window, or, when
// holds alone fill the cap, when enough of them expire.
type Reservation struct {
	OK       bool
	Count    int // sends in the window plus live holds, this one included when granted
	Limit    int
	NextSlot time.Time // zero when OK
}

var (
	errNoKey  = errors.New("caps: empty key")
	errNoID   = errors.New("caps: empty reservation id")
	errWindow = errors.New("caps: window must be at least 1ms")
	errHold   = errors.New("caps: hold must be at least 1ms")
	errLimit  = errors.New("caps: limit must be at least 1")
)

// Check reports what makes s unusable; stores call it before any work so
// that both refuse the same requests.
func (s Slot) Check() error {
	switch {
	case s.Key == "":
		return errNoKey
	case s.ID == "":
		return fmt.Errorf("%w (key %s)", errNoID, s.Key)
	case s.Window < time.Millisecond:
		return fmt.Errorf("%w (key %s: %s)", errWindow, s.Key, s.Window)
	case s.Hold < time.Millisecond:
		return fmt.Errorf("%w (key %s: %s)", errHold, s.Key, s.Hold)
	}
	return nil
}

// Check reports what makes r unusable.
func (r Request) Check() error {
	if r.Limit < 1 {
		return fmt.Errorf("%w (key %s: %d)", errLimit, r.Key, r.Limit)
	}
	return r.Slot.Check()
}

// CheckSlots checks each slot of a Commit or Release.
func CheckSlots(slots []Slot) error {
	for _, sl := range slots {
		if err := sl.Check(); err != nil {
			return err
		}
	}
	return nil
}

// CheckRequests checks each request and that no key appears twice.
func CheckRequests(reqs []Request) error {
	seen := make(map[string]bool, len(reqs))
	for _, r := range reqs {
		if err := r.Check(); err != nil {
			return err
		}
		if seen[r.Key] {
			return fmt.Errorf("caps: key %s twice in one reservation", r.Key)
		}
		seen[r.Key] = true
	}
	return nil
}

// CheckUsage validates the arguments of Store.Usage.
func CheckUsage(key string, limit int, window time.Duration) error {
	return Request{Slot: Slot{Key: key, ID: "-", Window: window, Hold: time.Millisecond}, Limit: limit}.Check()
}
