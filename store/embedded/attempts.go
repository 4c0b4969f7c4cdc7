package embedded

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/dncgate/dncgate/store"
)

// Login attempts live in the counters table, beside the Counters' keys,
// and go through its statements; qAttemptTake gives one back.
const qAttemptTake = `UPDATE counters SET count = count - 1 WHERE key = ?1 AND count > 0 AND expires_at > ?2`

// ReserveAttempt reads and counts every key in one IMMEDIATE transaction:
// SQLite holds its write lock from the first read, so no other attempt, in
// this process or another, reads a count between this one's read and its
// write.
func (s *Store) ReserveAttempt(ctx context.Context, keys []store.AttemptKey, window time.Duration) ([]int64, bool, error) {
	if window <= 0 {
		return nil, false, errBadWindow
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return nil, false, fmt.Errorf("embedded: reserve attempt: %w", err)
	}
	defer tx.Rollback()
	now := s.now()
	counts, ok, err := readAttempts(ctx, tx, keys, nanos(now))
	if err != nil || !ok {
		return counts, false, err
	}
	for _, k := range keys {
		if _, err := tx.ExecContext(ctx, qHit, k.Key, nanos(now), nanos(now.Add(window))); err != nil {
			return nil, false, fmt.Errorf("embedded: reserve attempt: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, false, fmt.Errorf("embedded: reserve attempt: %w", err)
	}
	if s.hits.Add(1)%s.purgeEvery == 0 { // expired attempts go as hits' do
		s.purgeCounters(ctx, now)
	}
	return counts, true, nil
}

// readAttempts returns the keys' live counts, and false when one has
// reached its limit.
func readAttempts(ctx context.Context, tx *sql.Tx, keys []store.AttemptKey, now int64) ([]int64, bool, error) {
	counts := make([]int64, len(keys))
	ok := true
	for i, k := range keys {
		err := tx.QueryRowContext(ctx, qCount, k.Key, now).Scan(&counts[i])
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return nil, false, fmt.Errorf("embedded: reserve attempt: %w", err)
		}
		if counts[i] >= k.Limit {
			ok = false
		}
	}
	return counts, ok, nil
}

// SettleAttempt deletes reset and takes one off each of release in one
// transaction.
func (s *Store) SettleAttempt(ctx context.Context, reset, release []string) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("embedded: settle attempt: %w", err)
	}
	defer tx.Rollback()
	for _, k := range reset {
		if _, err := tx.ExecContext(ctx, qResetCount, k); err != nil {
			return fmt.Errorf("embedded: settle attempt: %w", err)
		}
	}
	now := nanos(s.now())
	for _, k := range release {
		if _, err := tx.ExecContext(ctx, qAttemptTake, k, now); err != nil {
			return fmt.Errorf("embedded: settle attempt: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("embedded: settle attempt: %w", err)
	}
	return nil
}
