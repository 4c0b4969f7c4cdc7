package embedded

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/dncgate/dncgate/store"
)

// identitySchema holds the store's identity record (store.Identity): one
// row at most.
const identitySchema = `CREATE TABLE IF NOT EXISTS identity (
		one             INTEGER PRIMARY KEY CHECK (one = 1),
		id              TEXT NOT NULL,
		created_at      INTEGER NOT NULL,
		key_fingerprint TEXT NOT NULL,
		links_sent      INTEGER NOT NULL DEFAULT 0
	);`

// Identity reads the record.
func (s *Store) Identity(ctx context.Context) (store.Identity, error) {
	var (
		id      store.Identity
		created int64
	)
	err := s.r.QueryRowContext(ctx, `SELECT id, created_at, key_fingerprint, links_sent FROM identity`).
		Scan(&id.ID, &created, &id.KeyFingerprint, &id.LinksSent)
	if errors.Is(err, sql.ErrNoRows) {
		return store.Identity{}, store.ErrNoIdentity
	}
	if err != nil {
		return store.Identity{}, fmt.Errorf("embedded: identity: %w", err)
	}
	id.CreatedAt = fromNanos(created)
	return id, nil
}

// CreateIdentity writes the record; the one-row table makes a second
// creation fail unless replace is set.
func (s *Store) CreateIdentity(ctx context.Context, id store.Identity, replace bool) error {
	if id.ID == "" {
		return errors.New("embedded: an identity needs an id")
	}
	verb := "INSERT OR IGNORE"
	if replace {
		verb = "INSERT OR REPLACE"
	}
	res, err := s.w.ExecContext(ctx, verb+` INTO identity (one, id, created_at, key_fingerprint, links_sent) VALUES (1, ?, ?, ?, ?)`,
		id.ID, nanos(id.CreatedAt), id.KeyFingerprint, id.LinksSent)
	if err != nil {
		return fmt.Errorf("embedded: create identity: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return store.ErrExists
	}
	return nil
}

// MarkLinksSent sets links_sent.
func (s *Store) MarkLinksSent(ctx context.Context) error {
	res, err := s.w.ExecContext(ctx, `UPDATE identity SET links_sent = 1`)
	if err != nil {
		return fmt.Errorf("embedded: identity: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return store.ErrNoIdentity
	}
	return nil
}

// Guard sets the id that list reads expect. The lookups' fast path reads
// the identity with the change log's head (listcache.go); the others read
// it on their own.
func (s *Store) Guard(id string) { s.guard.Store(&id) }

func (s *Store) guarded() string {
	if p := s.guard.Load(); p != nil {
		return *p
	}
	return ""
}

// checkGuard reads the identity's id and compares it with the guard's.
func (s *Store) checkGuard(ctx context.Context) error {
	want := s.guarded()
	if want == "" {
		return nil
	}
	var got string
	err := s.r.QueryRowContext(ctx, `SELECT id FROM identity`).Scan(&got)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("embedded: identity: %w", err)
	}
	return store.CheckGuard(want, got)
}
