package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"sync"

	"github.com/dncgate/dncgate/ledger"
)

// maxOutcomes bounds one batch of outcomes.
const maxOutcomes = 256

// outcomeReq is one SetOutcome waiting for its batch.
type outcomeReq struct {
	ref  string
	rcpt ledger.Digest
	o    ledger.Outcome
	done chan error
}

// outcomes writes the SetOutcome calls that arrive while a batch commits
// together in the next one, as the group commit does for the records:
// every send writes one outcome per recipient, and one commit each would
// cap the relay at the disk's flushes per second.
type outcomes struct {
	l    *Ledger
	reqs chan outcomeReq
	once sync.Once
	quit chan struct{}
	done chan struct{}
}

func startOutcomes(l *Ledger) *outcomes {
	b := &outcomes{l: l, reqs: make(chan outcomeReq), quit: make(chan struct{}), done: make(chan struct{})}
	go b.loop()
	return b
}

func (b *outcomes) loop() {
	defer close(b.done)
	batch := make([]outcomeReq, 0, maxOutcomes)
	for {
		select {
		case <-b.quit:
			return
		case r := <-b.reqs:
			batch = append(batch[:0], r)
		}
	collect:
		for len(batch) < maxOutcomes {
			select {
			case r := <-b.reqs:
				batch = append(batch, r)
			default:
				break collect
			}
		}
		errs, err := b.l.writeOutcomes(batch)
		for i, r := range batch {
			if err != nil {
				r.done <- err
			} else {
				r.done <- errs[i]
			}
		}
	}
}

func (b *outcomes) stop() {
	b.once.Do(func() { close(b.quit) })
	<-b.done
}

func (b *outcomes) submit(ctx context.Context, r outcomeReq) error {
	r.done = make(chan error, 1)
	select {
	case b.reqs <- r:
	case <-b.quit:
		return ledger.ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-r.done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// writeOutcomes applies a batch in one transaction, searching the newest
// months first; each request gets nil or ledger.ErrNotFound, or err fails
// them all.
func (l *Ledger) writeOutcomes(batch []outcomeReq) (errs []error, err error) {
	ctx := context.Background()
	tabs, err := l.tables(ctx, l.w)
	if err != nil {
		return nil, err
	}
	tx, err := l.w.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	stmts := map[string]*sql.Stmt{}
	errs = make([]error, len(batch))
	for i, r := range batch {
		errs[i] = ledger.ErrNotFound
		var at any
		if !r.o.At.IsZero() {
			at = tc.Value(r.o.At)
		}
		for _, t := range tabs {
			st := stmts[t]
			if st == nil {
				if st, err = tx.PrepareContext(ctx, "UPDATE "+t+" SET outcome = ?, reply = ?, outcome_at = ? WHERE ref = ? AND rcpt_digest = ?"); err != nil {
					return nil, err
				}
				stmts[t] = st
			}
			res, err := st.ExecContext(ctx, string(r.o.Kind), r.o.Reply, at, r.ref, r.rcpt[:])
			if err != nil {
				return nil, fmt.Errorf("ledger: set outcome: %w", err)
			}
			if n, _ := res.RowsAffected(); n > 0 {
				errs[i] = nil
				break
			}
		}
	}
	return errs, tx.Commit()
}
