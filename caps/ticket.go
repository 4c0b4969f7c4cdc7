package caps

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// Ticket is one recipient's reservations in every cap that applied. A nil
// or empty Ticket (no cap applied) commits and releases nothing.
type Ticket struct {
	c     *Checker
	slots []Slot

	mu    sync.Mutex
	state ticketState
}

type ticketState int

const (
	open ticketState = iota
	committed
	released
)

// Commit records the send at now, once the upstream accepted the message
// for this recipient. It may be called again after an error; it is
// recorded once. Commit after Release still records the send: the mail
// left, and the count must say so.
func (t *Ticket) Commit(ctx context.Context, now time.Time) error {
	if t == nil || len(t.slots) == 0 {
		return nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.state == open {
		t.c.letGo(t.slots)
	}
	t.state = committed
	if err := t.c.st.Commit(ctx, t.slots, now); err != nil {
		return fmt.Errorf("caps: committing: %w", err)
	}
	return nil
}

// Release gives the reservations back: the transaction was reset, aborted
// or refused for this recipient. Slots another recipient of the same
// message still holds stay held. Release after Commit does nothing.
func (t *Ticket) Release(ctx context.Context) error {
	if t == nil || len(t.slots) == 0 {
		return nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.state != open {
		return nil
	}
	t.state = released
	free := t.c.letGo(t.slots)
	if len(free) == 0 {
		return nil
	}
	if err := t.c.st.Release(ctx, free); err != nil {
		return fmt.Errorf("caps: releasing: %w", err)
	}
	return nil
}

// Caps is how many caps the ticket holds a slot in.
func (t *Ticket) Caps() int {
	if t == nil {
		return 0
	}
	return len(t.slots)
}
