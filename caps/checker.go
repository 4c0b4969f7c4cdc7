package caps

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"sync"
	"time"

	"github.com/dncgate/dncgate/country"
)

// digestLen is how many bytes of an HMAC-SHA256 name a key or an id: 16
// bytes make collisions between keys out of reach.
const digestLen = 16

// Options tune a Checker.
type Options struct {
	// Hold is the reservation lifetime of rules without their own;
	// DefaultHold when 0.
	Hold time.Duration
}

// Checker reserves, commits and releases cap slots for recipients. It is
// safe for concurrent use. Several Checkers (one per gateway instance) on
// one store enforce the same caps.
type Checker struct {
	rules []Rule
	st    Store
	hold  time.Duration
	macs  sync.Pool // of hash.Hash: HMAC-SHA256 under the digest key

	// shared counts the open tickets of this process holding each
	// per-message slot: the recipients of one message that share a key
	// share its hold, which is released only when the last of them lets
	// go, so a refused recipient does not free the slot another one is
	// still delivering under.
	mu     sync.Mutex
	shared map[Slot]int
}

// New returns a Checker for rules on st. key is the secret of the keyed
// digests that name keys and ids in the store, so a store dump does not
// reveal addresses; every instance sharing a store needs the same one.
func New(rules []Rule, st Store, key []byte, o Options) (*Checker, error) {
	if len(key) == 0 {
		return nil, errors.New("caps: empty digest key")
	}
	names := map[string]bool{}
	for _, r := range rules {
		if err := r.Check(); err != nil {
			return nil, err
		}
		if names[r.Name] {
			return nil, fmt.Errorf("caps: two rules named %s", r.Name)
		}
		names[r.Name] = true
	}
	hold := o.Hold
	if hold == 0 {
		hold = DefaultHold
	}
	c := &Checker{rules: append([]Rule(nil), rules...), st: st, hold: hold, shared: map[Slot]int{}}
	key = append([]byte(nil), key...)
	c.macs.New = func() any { return hmac.New(sha256.New, key) }
	return c, nil
}

// Rules returns the rules in their configured order.
func (c *Checker) Rules() []Rule { return append([]Rule(nil), c.rules...) }

// Reserve takes a slot in every cap that applies to this recipient of the
// message msgID, sent by rep: rules with no countries, or listing country.
// When a cap is reached it takes none and returns the first reached cap's
// Refusal. A store failure returns an error and no ticket: the caller
// answers 4xx, the gateway fails closed. A rep or recipient that a cap
// counts and that does not normalise returns an *AddressError before any
// store call: the caller refuses the recipient (see AddressError).
//
// Round trips: on a single Redis, one (one script takes every cap of the
// recipient), granted or refused. On a Redis Cluster, one pipeline of a
// script per cap (sent to the nodes in parallel) and, when a cap is full,
// a second one returning the holds the others took. On the embedded
// store, one transaction. No cap applying costs nothing. Commit and
// Release cost one more each; Settle ends every ticket of a message with
// one for all the commits (and one for the releases, if any).
//
// The ticket must end in Commit, Release or Settle.
func (c *Checker) Reserve(ctx context.Context, rep, rcpt string, cc country.Code, msgID string, now time.Time) (*Ticket, *Refusal, error) {
	if msgID == "" {
		return nil, nil, errors.New("caps: empty message id")
	}
	rules, reqs, err := c.requests(rep, rcpt, cc, msgID)
	if err != nil {
		return nil, nil, err
	}
	t := &Ticket{c: c}
	if len(reqs) == 0 {
		return t, nil, nil
	}
	res, err := c.st.Reserve(ctx, reqs, now)
	if err != nil {
		// No address in the error: errors end up in logs.
		return nil, nil, fmt.Errorf("caps: reserving: %w", err)
	}
	if len(res) != len(reqs) {
		return nil, nil, fmt.Errorf("caps: the store answered %d of %d reservations", len(res), len(reqs))
	}
	for i, r := range res {
		if !r.OK {
			return nil, refusal(rules[i], r), nil
		}
	}
	t.slots = make([]Slot, len(reqs))
	for i, q := range reqs {
		t.slots[i] = q.Slot
	}
	c.acquire(t.slots)
	return t, nil, nil
}

// requests builds one store request per rule that applies, with rep and
// rcpt normalised once for all of them. An address a rule needs that does
// not normalise is an *AddressError.
func (c *Checker) requests(rep, rcpt string, cc country.Code, msgID string) ([]Rule, []Request, error) {
	var rules []Rule
	needRep, needRcpt := false, false
	for _, r := range c.rules {
		if !r.appliesTo(cc) {
			continue
		}
		rules = append(rules, r)
		nr, nc := r.Scope.needs()
		needRep, needRcpt = needRep || nr, needRcpt || nc || !r.perMessage()
	}
	if len(rules) == 0 {
		return nil, nil, nil
	}
	p, err := newParties(rep, rcpt, needRep, needRcpt)
	if err != nil {
		return nil, nil, err
	}
	// Reservation ids: the message's, shared by its recipients, and the
	// recipient's own for caps counting recipients (made when needed).
	msgOnly, withRcpt := c.digest("id", msgID), ""
	reqs := make([]Request, len(rules))
	for i, r := range rules {
		id := msgOnly
		if !r.perMessage() {
			if withRcpt == "" {
				withRcpt = c.digest("id", msgID, p.rcpt)
			}
			id = withRcpt
		}
		reqs[i] = Request{Slot: c.slot(r, p.key(r.Scope), id), Limit: r.Limit}
	}
	return rules, reqs, nil
}

func (c *Checker) slot(r Rule, subject, id string) Slot {
	hold := r.Hold
	if hold == 0 {
		hold = c.hold
	}
	return Slot{Key: c.StoreKey(r.Name, subject), ID: id, Window: r.Window, Hold: hold}
}

// StoreKey is the store's name for the subject of the named cap: a keyed
// digest of both, so renaming a cap starts its count afresh.
func (c *Checker) StoreKey(rule, subject string) string {
	return c.digest("key", rule, subject)
}

// digest is the hex HMAC-SHA256 of the parts, NUL-separated (no part
// holds a NUL: addresses cannot), truncated to digestLen bytes. Keyed
// hashes are pooled: setting one up costs two SHA-256 blocks.
func (c *Checker) digest(parts ...string) string {
	m := c.macs.Get().(hash.Hash)
	defer c.macs.Put(m)
	m.Reset()
	for i, p := range parts {
		if i > 0 {
			m.Write([]byte{0})
		}
		io.WriteString(m, p)
	}
	var sum [sha256.Size]byte
	return hex.EncodeToString(m.Sum(sum[:0])[:digestLen])
}

// Usage reports the named cap's state for subject (as Key or DomainKey
// builds it: a normalised address, a registrable domain, rep|domain, or
// "org").
func (c *Checker) Usage(ctx context.Context, rule, subject string, now time.Time) (Reservation, error) {
	r, ok := c.rule(rule)
	if !ok {
		return Reservation{}, fmt.Errorf("caps: no cap named %q", rule)
	}
	return c.st.Usage(ctx, c.StoreKey(r.Name, subject), r.Limit, r.Window, now)
}

// Reset forgets every send and reservation of subject in the named cap.
func (c *Checker) Reset(ctx context.Context, rule, subject string) error {
	r, ok := c.rule(rule)
	if !ok {
		return fmt.Errorf("caps: no cap named %q", rule)
	}
	return c.st.Reset(ctx, c.StoreKey(r.Name, subject))
}

func (c *Checker) rule(name string) (Rule, bool) {
	for _, r := range c.rules {
		if r.Name == name {
			return r, true
		}
	}
	return Rule{}, false
}

// acquire counts one more open ticket on each slot.
func (c *Checker) acquire(slots []Slot) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, s := range slots {
		c.shared[s]++
	}
}

// letGo counts one ticket fewer on each slot and returns those no open
// ticket holds any more.
func (c *Checker) letGo(slots []Slot) []Slot {
	c.mu.Lock()
	defer c.mu.Unlock()
	var free []Slot
	for _, s := range slots {
		if c.shared[s]--; c.shared[s] <= 0 {
			delete(c.shared, s)
			free = append(free, s)
		}
	}
	return free
}
