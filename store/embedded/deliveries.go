package embedded

import (
	"context"
	"fmt"
	"time"
)

// Delivered returns the unexpired marks of msg: one indexed lookup.
func (s *Store) Delivered(ctx context.Context, msg string) (map[string]bool, error) {
	// The lookup runs once per relayed message. A WAL read of the local
	// file never waits on a lock, so the caller's deadline is dropped: with
	// one, the driver starts a goroutine per statement to watch it.
	rows, err := s.st.delivered.QueryContext(context.WithoutCancel(ctx), msg, nanos(s.now()))
	if err != nil {
		return nil, fmt.Errorf("embedded: delivered: %w", err)
	}
	defer rows.Close()
	var got map[string]bool
	for rows.Next() {
		var rcpt string
		if err := rows.Scan(&rcpt); err != nil {
			return nil, fmt.Errorf("embedded: delivered: %w", err)
		}
		if got == nil {
			got = map[string]bool{}
		}
		got[rcpt] = true
	}
	return got, rows.Err()
}

// MarkDelivered records rcpt for msg until ttl from now. Every purgeEvery
// marks it also deletes a batch of expired rows, so the table stays the
// size of a few days of traffic without a scan on the hot path.
func (s *Store) MarkDelivered(ctx context.Context, msg, rcpt string, ttl time.Duration) error {
	if ttl <= 0 {
		return errBadTTL
	}
	return s.enqueueMark(ctx, markReq{msg: msg, rcpt: rcpt, expires: nanos(s.now().Add(ttl))})
}

// purge deletes a batch of expired rows of each table.
func (s *Store) purge(ctx context.Context) {
	now := s.now()
	s.purgeDeliveries(ctx, now)
	s.purgeCounters(ctx, now)
}

// purgeDeliveries deletes up to purgeBatch expired marks. A failure is
// ignored: expired rows are invisible to readers anyway, and the next
// purge retries.
func (s *Store) purgeDeliveries(ctx context.Context, now time.Time) {
	_, _ = s.st.purgeDeliveries.ExecContext(ctx, nanos(now), purgeBatch)
}

func (s *Store) purgeCounters(ctx context.Context, now time.Time) {
	_, _ = s.st.purgeCounters.ExecContext(ctx, nanos(now), purgeBatch)
}

// HoldWrites holds nothing back: a write to the local file costs no round
// trip, and its group commits already share one sync among concurrent
// writers. The context is returned as it is, and the flush does nothing.
func (s *Store) HoldWrites(ctx context.Context) (context.Context, func(context.Context) error) {
	return ctx, func(context.Context) error { return nil }
}
