package embedded

import (
	"context"
	"database/sql"
	"errors"
	"sync"
)

// lazyStmts are read statements prepared at their first use, not at Open:
// they read tables (lists, contacts) that are created by the first import.
// Preparing a statement costs as much as running it, so a lookup on the
// recipient check's path must not do it every time.
type lazyStmts struct {
	mu sync.Mutex
	m  map[string]*sql.Stmt // by query text
}

// get returns query prepared on db, preparing it the first time. A query
// whose tables do not exist yet fails here and is tried again next time.
func (l *lazyStmts) get(ctx context.Context, db *sql.DB, query string) (*sql.Stmt, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if st, ok := l.m[query]; ok {
		return st, nil
	}
	st, err := db.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	if l.m == nil {
		l.m = map[string]*sql.Stmt{}
	}
	l.m[query] = st
	return st, nil
}

func (l *lazyStmts) close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	var errs []error
	for _, st := range l.m {
		errs = append(errs, st.Close())
	}
	l.m = nil
	return errors.Join(errs...)
}
