package ledger

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// Spooled is a Ledger that keeps writing when its backend cannot: what
// the backend refuses goes to the spool, and while the backend is known to
// be down every later write goes there too, without waiting on the
// backend. Replay drains the spool into the backend; records carry ids,
// so replaying one twice never doubles it. Once a replay has written to
// the backend, new writes go straight to it again while the replay goes
// on, so a replay under load does not chase a spool that grows as fast as
// it drains: a new record or audit event needs nothing spooled before it,
// and an outcome whose record the backend does not hold yet (it waits in
// the spool) is spooled behind that record, so an outcome never reaches
// the backend before its record.
type Spooled struct {
	Ledger
	spool *Spool
	mu    sync.Mutex  // one replay at a time
	down  atomic.Bool // the last write to the backend failed, and no replay has written since
}

// NewSpooled wraps l with the spool s.
func NewSpooled(l Ledger, s *Spool) *Spooled { return &Spooled{Ledger: l, spool: s} }

// Record writes ds to the backend, else to the spool.
func (s *Spooled) Record(ctx context.Context, ds []Decision) error {
	Fill(ds) // ids first, so the spooled copy and a half-done write agree
	return s.write(ctx, entry{Decisions: ds}, func() error { return s.Ledger.Record(ctx, ds) })
}

// SetOutcome writes the outcome to the backend, else to the spool. A
// record the backend does not hold is erased or expired, or still in the
// spool: the outcome then follows it there.
func (s *Spooled) SetOutcome(ctx context.Context, ref string, rcpt Digest, o Outcome) error {
	// Asked before the write: the record, when spooled, was spooled
	// before its outcome, and a replay may empty the spool meanwhile.
	spooled := s.spool.Pending()
	return s.write(ctx, entry{Ref: ref, Rcpt: &rcpt, Outcome: &o}, func() error {
		err := s.Ledger.SetOutcome(ctx, ref, rcpt, o)
		if errors.Is(err, ErrNotFound) {
			if spooled {
				return errBehindSpool
			}
			return nil // the backend answered: nothing to spool
		}
		return err
	})
}

// errBehindSpool: the write must follow what the spool holds.
var errBehindSpool = errors.New("ledger: behind the spool")

// Audit writes the event to the backend, else to the spool.
func (s *Spooled) Audit(ctx context.Context, e AuditEvent) error {
	FillAudit(&e)
	return s.write(ctx, entry{Audit: &e}, func() error { return s.Ledger.Audit(ctx, e) })
}

func (s *Spooled) write(ctx context.Context, e entry, direct func() error) error {
	if !s.down.Load() || !s.spool.Pending() {
		err := direct()
		if err == nil {
			return nil
		}
		if !errors.Is(err, errBehindSpool) {
			s.down.Store(true)
		}
	}
	return s.spool.append(e)
}

// Erase drains the spool first, so no spooled record about the person
// lands after the erasure.
func (s *Spooled) Erase(ctx context.Context, rcpt Digest) (Erased, error) {
	if _, err := s.Replay(ctx); err != nil {
		return Erased{}, err
	}
	return s.Ledger.Erase(ctx, rcpt)
}

// Replay applies the spooled writes to the backend in order, stopping at
// the first the backend refuses; it returns how many it applied.
func (s *Spooled) Replay(ctx context.Context) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for {
		e, end, ok, err := s.spool.next()
		if err != nil || !ok {
			return n, err
		}
		if err := s.apply(ctx, e); err != nil {
			return n, fmt.Errorf("ledger: replay: %w", err)
		}
		s.down.Store(false) // the backend takes writes again
		if err := s.spool.done(end); err != nil {
			return n, err
		}
		n++
	}
}

func (s *Spooled) apply(ctx context.Context, e entry) error {
	switch {
	case e.Decisions != nil:
		return s.Ledger.Record(ctx, e.Decisions)
	case e.Outcome != nil && e.Rcpt != nil:
		err := s.Ledger.SetOutcome(ctx, e.Ref, *e.Rcpt, *e.Outcome)
		if errors.Is(err, ErrNotFound) {
			return nil // erased or expired meanwhile
		}
		return err
	case e.Audit != nil:
		return s.Ledger.Audit(ctx, *e.Audit)
	}
	return nil
}

// Run replays every interval until ctx ends, reporting each replay that
// did something or failed.
func (s *Spooled) Run(ctx context.Context, every time.Duration, report func(n int, err error)) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if !s.spool.Pending() {
			continue
		}
		n, err := s.Replay(ctx)
		if report != nil && (n > 0 || err != nil) {
			report(n, err)
		}
	}
}

// Close closes the backend and the spool.
func (s *Spooled) Close() error { return errors.Join(s.Ledger.Close(), s.spool.Close()) }
