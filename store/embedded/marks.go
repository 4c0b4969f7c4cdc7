package embedded

import (
	"context"
	"errors"
	"fmt"

	"github.com/dncgate/dncgate/internal/groupcommit"
)

// maxMarkBatch bounds one group commit, so a burst never holds the write
// connection for long.
const maxMarkBatch = 256

var errClosed = errors.New("embedded: store closed")

// markReq is one MarkDelivered call waiting for its group commit.
type markReq struct {
	msg, rcpt string
	expires   int64
}

// The marker writes delivered marks by group commit (package
// groupcommit): the calls that arrive while a transaction commits are
// written together in the next one. Each SQLite commit appends the
// touched pages to the WAL, so with many sessions delivering at once this
// turns one page write per mark into one per batch. Callers still wait
// until their mark is committed.
func (s *Store) startMarker() {
	s.mk = groupcommit.Start(func(batch []markReq) []error {
		err := s.writeMarks(batch)
		errs := make([]error, len(batch))
		for i := range errs {
			errs[i] = err
		}
		return errs
	}, groupcommit.Options{Max: maxMarkBatch})
}

// stopMarker ends the loop after the batch under way; later calls fail.
// Close may run more than once.
func (s *Store) stopMarker() {
	if s.mk != nil {
		s.mk.Stop()
	}
}

func (s *Store) writeMarks(batch []markReq) error {
	// No deadline: busy_timeout already bounds waiting for another
	// process's lock, and a context with a Done channel costs the driver a
	// watcher goroutine per statement.
	ctx := context.Background()
	if err := s.insertMarks(ctx, batch); err != nil {
		return fmt.Errorf("embedded: mark delivered: %w", err)
	}
	// Purge whenever the running count of marks crosses a multiple of
	// purgeEvery, as single marks did.
	n := uint64(len(batch))
	if after := s.marks.Add(n); after/s.purgeEvery != (after-n)/s.purgeEvery {
		s.purgeDeliveries(ctx, s.now())
	}
	return nil
}

// insertMarks writes a lone mark in its own implicit transaction (cheaper
// than BEGIN/COMMIT) and a batch in one explicit transaction.
func (s *Store) insertMarks(ctx context.Context, batch []markReq) error {
	if len(batch) == 1 {
		r := batch[0]
		_, err := s.st.markDelivered.ExecContext(ctx, r.msg, r.rcpt, r.expires)
		return err
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	stmt := tx.StmtContext(ctx, s.st.markDelivered)
	for _, r := range batch {
		if _, err := stmt.ExecContext(ctx, r.msg, r.rcpt, r.expires); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// enqueueMark hands one mark to the group commit and waits for it.
func (s *Store) enqueueMark(ctx context.Context, r markReq) error {
	return closedAs(s.mk.Submit(ctx, r))
}

// closedAs is the store's own error for a group commit that stopped.
func closedAs(err error) error {
	if errors.Is(err, groupcommit.ErrClosed) {
		return errClosed
	}
	return err
}
