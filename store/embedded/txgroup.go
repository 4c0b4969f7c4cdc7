package embedded

import (
	"context"
	"database/sql"
	"errors"
)

// maxTxGroup bounds one group commit of cap writes.
const maxTxGroup = 64

// txOp is one write transaction's work waiting for its group commit: f
// as inTx runs it, with the caller's context.
type txOp struct {
	ctx  context.Context
	f    func(tx *sql.Tx) (bool, error)
	done chan error
}

// txGroup commits the cap writes (a recipient's reservation at RCPT, a
// message's commit or release) that arrive while a transaction commits
// together in the next one, each in a savepoint of its own: a refused
// reservation rolls back to its savepoint, leaving the others. Each
// commit writes the touched pages to the WAL, which under many sessions
// costs more than the statements; callers still wait until their own
// work is committed and get its own error. Started and stopped with the
// marks' group commit, on the same writing connection.
type txGroup struct {
	reqs chan txOp
	quit chan struct{}
	done chan struct{}
}

func (s *Store) startTxGroup() {
	s.tg = &txGroup{reqs: make(chan txOp), quit: make(chan struct{}), done: make(chan struct{})}
	go s.txGroupLoop()
}

func (s *Store) stopTxGroup() {
	if s.tg == nil {
		return
	}
	select {
	case <-s.tg.quit:
	default:
		close(s.tg.quit)
	}
	<-s.tg.done
}

func (s *Store) txGroupLoop() {
	defer close(s.tg.done)
	batch := make([]txOp, 0, maxTxGroup)
	for {
		select {
		case <-s.tg.quit:
			return
		case op := <-s.tg.reqs:
			batch = append(batch[:0], op)
		}
	collect:
		for len(batch) < maxTxGroup {
			select {
			case op := <-s.tg.reqs:
				batch = append(batch, op)
			default:
				break collect
			}
		}
		if len(batch) == 1 {
			batch[0].done <- s.inTx(batch[0].ctx, batch[0].f)
			continue
		}
		s.commitGroup(batch)
	}
}

// commitGroup runs batch in one transaction, each op in its savepoint.
func (s *Store) commitGroup(batch []txOp) {
	errs := make([]error, len(batch))
	err := s.inTx(context.Background(), func(tx *sql.Tx) (bool, error) {
		for i, op := range batch {
			if errs[i] = op.ctx.Err(); errs[i] != nil {
				continue // the caller has gone: nothing of it is written
			}
			var err error
			if errs[i], err = savepoint(tx, op); err != nil {
				return false, err // the transaction cannot go on
			}
		}
		return true, nil
	})
	for i, op := range batch {
		if err != nil {
			errs[i] = errors.Join(errs[i], err)
		}
		op.done <- errs[i]
	}
}

// savepoint runs op inside a savepoint, keeping its writes when it
// returns true, rolling them back when it returns false or fails. Its
// own failure is opErr; err is a failure of the savepoint itself, after
// which nothing of the transaction can be trusted.
func savepoint(tx *sql.Tx, op txOp) (opErr, err error) {
	ctx := context.Background()
	if _, err := tx.ExecContext(ctx, "SAVEPOINT op"); err != nil {
		return nil, err
	}
	keep, opErr := op.f(tx)
	if opErr != nil || !keep {
		if _, err := tx.ExecContext(ctx, "ROLLBACK TO op"); err != nil {
			return opErr, err
		}
	}
	_, err = tx.ExecContext(ctx, "RELEASE op")
	return opErr, err
}

// inGroupTx is inTx through the group commit.
func (s *Store) inGroupTx(ctx context.Context, f func(tx *sql.Tx) (bool, error)) error {
	op := txOp{ctx: ctx, f: f, done: make(chan error, 1)}
	select {
	case s.tg.reqs <- op:
	case <-s.tg.quit:
		return errClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	// Once handed over, the op is waited for whatever ctx does: its
	// writes are either all committed or none, and the caller learns which.
	return <-op.done
}
