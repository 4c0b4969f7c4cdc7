package embedded

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

var errBadWindow = errors.New("embedded: window must be positive")

// Hit counts one event in key's window with a single upsert, which SQLite
// runs under its write lock: concurrent hits, from any process, each see a
// distinct count.
func (s *Store) Hit(ctx context.Context, key string, window time.Duration) (int64, error) {
	if window <= 0 {
		return 0, errBadWindow
	}
	now := s.now()
	var n int64
	err := s.st.hit.QueryRowContext(ctx, key, nanos(now), nanos(now.Add(window))).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("embedded: hit: %w", err)
	}
	if s.hits.Add(1)%s.purgeEvery == 0 {
		s.purgeCounters(ctx, now)
	}
	return n, nil
}

// Count returns key's count in its current window, 0 when none.
func (s *Store) Count(ctx context.Context, key string) (int64, error) {
	var n int64
	err := s.st.count.QueryRowContext(ctx, key, nanos(s.now())).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("embedded: count: %w", err)
	}
	return n, nil
}

// ResetCount deletes key; deleting an absent key is not an error.
func (s *Store) ResetCount(ctx context.Context, key string) error {
	if _, err := s.st.resetCount.ExecContext(ctx, key); err != nil {
		return fmt.Errorf("embedded: reset count: %w", err)
	}
	return nil
}
