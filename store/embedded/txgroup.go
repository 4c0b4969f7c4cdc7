package embedded

import (
	"context"
	"database/sql"
	"errors"

	"github.com/dncgate/dncgate/internal/groupcommit"
)

// maxTxGroup bounds one group commit of cap writes.
const maxTxGroup = 64

// txOp is one write transaction's work waiting for its group commit: f
// as inTx runs it, with the caller's context.
type txOp struct {
	ctx context.Context
	f   func(tx *sql.Tx) (bool, error)
}

// The cap writes (a recipient's reservation at RCPT, a message's commit
// or release) that arrive while a transaction commits are committed
// together in the next one (package groupcommit), each in a savepoint of
// its own: a refused reservation rolls back to its savepoint, leaving the
// others. Each commit writes the touched pages to the WAL, which under
// many sessions costs more than the statements; callers still wait until
// their own work is committed and get its own error. Started and stopped
// with the marks' group commit, on the same writing connection.
//
// Neither waits for more calls before a commit (groupcommit.Options.Wait,
// which the ledger uses): the store's commits do not wait for the disk
// (synchronous = NORMAL), a reservation is on the RCPT reply's path, and
// with the full bench profile a wait of 1 ms changed neither throughput
// nor CPU.
func (s *Store) startTxGroup() {
	s.tg = groupcommit.Start(s.writeTxGroup, groupcommit.Options{Max: maxTxGroup})
}

func (s *Store) stopTxGroup() {
	if s.tg != nil {
		s.tg.Stop()
	}
}

// writeTxGroup runs a lone op in a transaction of its own, several in
// one transaction, each in its savepoint.
func (s *Store) writeTxGroup(batch []txOp) []error {
	if len(batch) == 1 {
		return []error{s.inTx(batch[0].ctx, batch[0].f)}
	}
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
	if err != nil {
		for i := range errs {
			errs[i] = errors.Join(errs[i], err)
		}
	}
	return errs
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

// inGroupTx is inTx through the group commit. Once handed over, the op
// is waited for whatever ctx does: its writes are either all committed or
// none, and the caller learns which.
func (s *Store) inGroupTx(ctx context.Context, f func(tx *sql.Tx) (bool, error)) error {
	return closedAs(s.tg.Do(ctx, txOp{ctx: ctx, f: f}))
}
