package embedded

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"sync"
)

// headReader reads the change log's head, the one statement every lookup
// runs, through a connection of its own and the driver's statement
// directly: database/sql's rows, locks and context watch cost more than
// the key read itself, and each lookup's garbage adds to the collector's
// pauses, which make the decision's tail.
type headReader struct {
	path string

	mu   sync.Mutex // one query at a time on the connection
	db   *sql.DB    // opened at first use
	conn *sql.Conn
	stmt driver.Stmt // prepared once the table exists
	dest []driver.Value
}

// read returns the head, 0 when the log is empty. The statement runs
// without ctx's cancellation, which would cost a goroutine in the driver
// per query: it is one key read.
func (h *headReader) read(ctx context.Context) (seq int64, err error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.conn == nil {
		if err := h.open(ctx); err != nil {
			return 0, err
		}
	}
	err = h.conn.Raw(func(dc any) error {
		seq, err = h.query(dc)
		return err
	})
	return seq, err
}

func (h *headReader) open(ctx context.Context) error {
	db, err := openPool(h.path, true, 1)
	if err != nil {
		return err
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		db.Close()
		return err
	}
	h.db, h.conn, h.dest = db, conn, make([]driver.Value, 1)
	return nil
}

// query runs the statement on the driver's connection, preparing it the
// first time; a file without the log fails the preparation each time.
func (h *headReader) query(dc any) (int64, error) {
	ctx := context.Background()
	if h.stmt == nil {
		pc, ok := dc.(driver.ConnPrepareContext)
		if !ok {
			return 0, errors.New("the driver cannot prepare with a context")
		}
		st, err := pc.PrepareContext(ctx, qChangeHead)
		if err != nil {
			return 0, err
		}
		h.stmt = st
	}
	sq, ok := h.stmt.(driver.StmtQueryContext)
	if !ok {
		return 0, errors.New("the driver cannot query with a context")
	}
	rows, err := sq.QueryContext(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	if err := rows.Next(h.dest); err != nil {
		return 0, err
	}
	switch v := h.dest[0].(type) {
	case int64:
		return v, nil
	case nil:
		return 0, nil
	default:
		return 0, fmt.Errorf("head of type %T", v)
	}
}

func (h *headReader) close() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	var errs []error
	if h.stmt != nil {
		errs = append(errs, h.conn.Raw(func(any) error { return h.stmt.Close() }))
	}
	if h.conn != nil {
		errs = append(errs, h.conn.Close(), h.db.Close())
	}
	h.stmt, h.conn, h.db = nil, nil, nil
	return errors.Join(errs...)
}
