// Package stmtcache keeps SQL statements prepared once, at their first
// use, by query text: preparing costs SQLite as much as running a short
// statement, so a hot path must not prepare again on every call, and a
// statement on a table that does not exist yet (made by a first import,
// or a month table) cannot be prepared at open.
package stmtcache

import (
	"context"
	"database/sql"
	"errors"
	"sync"
)

// Cache is safe for concurrent use; its zero value is ready.
type Cache struct {
	mu sync.Mutex
	m  map[string]*sql.Stmt // by query text
}

// Get returns query prepared on db, preparing it the first time. A query
// that fails to prepare (its table is missing) is not kept, and is tried
// again next time.
func (c *Cache) Get(ctx context.Context, db *sql.DB, query string) (*sql.Stmt, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if st, ok := c.m[query]; ok {
		return st, nil
	}
	st, err := db.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	if c.m == nil {
		c.m = map[string]*sql.Stmt{}
	}
	c.m[query] = st
	return st, nil
}

// Drop closes and forgets the statements whose query text matches, as
// after a DROP TABLE: they would fail from then on.
func (c *Cache) Drop(match func(query string) bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for q, st := range c.m {
		if match(q) {
			st.Close()
			delete(c.m, q)
		}
	}
}

// Close closes every statement; the cache may be used again after.
func (c *Cache) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var errs []error
	for _, st := range c.m {
		errs = append(errs, st.Close())
	}
	c.m = nil
	return errors.Join(errs...)
}
