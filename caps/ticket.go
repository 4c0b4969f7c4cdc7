package caps

import (
	"context"
	"errors"
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
// left, and the count must say so. One store round trip; Checker.Settle
// commits the recipients of a message together.
func (t *Ticket) Commit(ctx context.Context, now time.Time) error {
	if t == nil || len(t.slots) == 0 {
		return nil
	}
	return t.c.Settle(ctx, []*Ticket{t}, nil, now)
}

// Release gives the reservations back: the transaction was reset, aborted
// or refused for this recipient. Slots another recipient of the same
// message still holds stay held. Release after Commit does nothing.
func (t *Ticket) Release(ctx context.Context) error {
	if t == nil || len(t.slots) == 0 {
		return nil
	}
	return t.c.Settle(ctx, nil, []*Ticket{t}, time.Time{})
}

// Caps is how many caps the ticket holds a slot in.
func (t *Ticket) Caps() int {
	if t == nil {
		return 0
	}
	return len(t.slots)
}

// Settle ends the tickets of a message as Commit and Release on each
// would, in one store call for all the commits (at now) and one for all
// the releases, rather than one per ticket: the relay learns the
// upstream's answer for every recipient of a message at once. A slot the
// recipients of a message share is sent to the store once. Nil and empty
// tickets are skipped; the others must come from c.
func (c *Checker) Settle(ctx context.Context, commit, release []*Ticket, now time.Time) error {
	for _, ts := range [][]*Ticket{commit, release} {
		for _, t := range ts {
			if t != nil && len(t.slots) > 0 && t.c != c {
				return errors.New("caps: settling a ticket of another checker")
			}
		}
	}
	var sends, frees []Slot
	for _, t := range commit {
		sends = append(sends, t.end(committed)...)
	}
	for _, t := range release {
		frees = append(frees, t.end(released)...)
	}
	sends = distinct(sends, nil)
	// Committing a slot removes its hold too.
	frees = distinct(frees, sends)
	var errs []error
	if len(sends) > 0 {
		if err := c.st.Commit(ctx, sends, now); err != nil {
			errs = append(errs, fmt.Errorf("caps: committing: %w", err))
		}
	}
	if len(frees) > 0 {
		if err := c.st.Release(ctx, frees); err != nil {
			errs = append(errs, fmt.Errorf("caps: releasing: %w", err))
		}
	}
	return errors.Join(errs...)
}

// end moves t to state and returns the slots the store must act on: all
// of them for a commit (again after an earlier one, which may have
// failed), or for a release of an open ticket those no other open ticket
// of this process holds.
func (t *Ticket) end(to ticketState) []Slot {
	if t == nil || len(t.slots) == 0 {
		return nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	was := t.state
	switch {
	case to == committed:
		t.state = committed
		if was == open {
			t.c.letGo(t.slots)
		}
		return t.slots
	case was == open:
		t.state = released
		return t.c.letGo(t.slots)
	}
	return nil
}

// distinct returns the slots of in, each once, leaving out those in skip.
func distinct(in, skip []Slot) []Slot {
	if len(in) < 2 && len(skip) == 0 {
		return in
	}
	seen := make(map[Slot]bool, len(in)+len(skip))
	for _, s := range skip {
		seen[s] = true
	}
	out := in[:0:0]
	for _, s := range in {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}
