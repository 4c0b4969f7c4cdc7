package embedded

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"sync"
)

// rawReader runs one read-only query, the kind every recipient check runs
// (the lists' change-log head, a contact), on connections of its own and
// through the driver's prepared statement directly: database/sql's rows,
// locks and context watch (a goroutine per query in the driver) cost more
// than the key read itself, and each check's garbage adds to the
// collector's pauses, which make the decision's tail.
type rawReader struct {
	path  string
	query string

	once sync.Once
	db   *sql.DB       // conns connections, opened at first use
	idle chan *rawConn // connections not in use, their statements prepared or not
	err  error         // opening db failed
}

// rawConn is one connection and, once its tables exist, the statement.
type rawConn struct {
	conn *sql.Conn
	stmt driver.Stmt
	dest []driver.Value // the row's columns, reused
}

// rawConns bounds the connections of one rawReader; more callers wait.
const rawConns = 2

func newRawReader(path, query string) *rawReader {
	return &rawReader{path: path, query: query, idle: make(chan *rawConn, rawConns)}
}

// row runs the query with args and hands the first row's columns to scan;
// found is false when there is no row. A file whose tables do not exist
// yet fails the preparation, and is tried again next time. The statement
// runs without ctx's cancellation: it is one key read.
func (r *rawReader) row(ctx context.Context, args []driver.NamedValue, scan func([]driver.Value) error) (found bool, err error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	c, err := r.take(ctx)
	if err != nil {
		return false, err
	}
	defer func() { r.idle <- c }()
	err = c.conn.Raw(func(dc any) error {
		found, err = c.run(dc, r.query, args, scan)
		return err
	})
	return found, err
}

// take returns an idle connection, opening the pool the first time and a
// connection while fewer than rawConns exist.
func (r *rawReader) take(ctx context.Context) (*rawConn, error) {
	r.once.Do(func() {
		if r.db, r.err = openPool(r.path, true, rawConns); r.err == nil {
			for range rawConns {
				r.idle <- nil // a place for a connection not opened yet
			}
		}
	})
	if r.err != nil {
		return nil, r.err
	}
	c := <-r.idle
	if c == closedConn {
		r.idle <- c // for the next caller
		return nil, errClosed
	}
	if c != nil {
		return c, nil
	}
	conn, err := r.db.Conn(ctx)
	if err != nil {
		r.idle <- nil
		return nil, err
	}
	return &rawConn{conn: conn}, nil
}

// run prepares the statement the first time, then queries.
func (c *rawConn) run(dc any, query string, args []driver.NamedValue, scan func([]driver.Value) error) (bool, error) {
	ctx := context.Background()
	if c.stmt == nil {
		pc, ok := dc.(driver.ConnPrepareContext)
		if !ok {
			return false, errors.New("the driver cannot prepare with a context")
		}
		st, err := pc.PrepareContext(ctx, query)
		if err != nil {
			return false, err
		}
		c.stmt = st
	}
	sq, ok := c.stmt.(driver.StmtQueryContext)
	if !ok {
		return false, errors.New("the driver cannot query with a context")
	}
	rows, err := sq.QueryContext(ctx, args)
	if err != nil {
		return false, err
	}
	defer rows.Close()
	if n := len(rows.Columns()); len(c.dest) != n {
		c.dest = make([]driver.Value, n)
	}
	dest := c.dest
	if err := rows.Next(dest); errors.Is(err, io.EOF) {
		return false, nil
	} else if err != nil {
		return false, err
	}
	return true, scan(dest)
}

// closedConn takes the connections' places once the reader is closed,
// so that a call after Close fails instead of waiting.
var closedConn = new(rawConn)

// close waits for the connections in use, closes them all and leaves
// closedConn in their places.
func (r *rawReader) close() error {
	r.once.Do(func() { r.err = errClosed })
	if r.db == nil {
		return nil
	}
	var errs []error
	for range rawConns {
		c := <-r.idle
		r.idle <- closedConn
		if c == nil || c == closedConn {
			continue
		}
		if c.stmt != nil {
			errs = append(errs, c.conn.Raw(func(any) error { return c.stmt.Close() }))
		}
		errs = append(errs, c.conn.Close())
	}
	errs = append(errs, r.db.Close())
	return errors.Join(errs...)
}

// int64Value reads an integer column, NULL as 0.
func int64Value(v driver.Value) (int64, error) {
	switch v := v.(type) {
	case int64:
		return v, nil
	case nil:
		return 0, nil
	default:
		return 0, fmt.Errorf("integer column of type %T", v)
	}
}
