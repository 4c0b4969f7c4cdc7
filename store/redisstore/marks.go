package redisstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// Delivered returns the rcpt fields of msg's hash: one HGETALL.
func (s *Store) Delivered(ctx context.Context, msg string) (map[string]bool, error) {
	h, err := s.c.HGetAll(ctx, s.keys.delivered(msg)).Result()
	if err != nil {
		return nil, fmt.Errorf("redisstore: delivered: %w", err)
	}
	if len(h) == 0 {
		return nil, nil
	}
	got := make(map[string]bool, len(h))
	for rcpt := range h {
		got[rcpt] = true
	}
	return got, nil
}

// MarkDelivered adds rcpt to msg's hash and sets the hash's TTL, pipelined
// in one round trip. The TTL is per message, not per recipient (field
// TTLs need Redis 7.4): a later mark of the same message extends the
// earlier ones, which only keeps a retry's marks alive as long as the
// newest, the intent anyway.
func (s *Store) MarkDelivered(ctx context.Context, msg, rcpt string, ttl time.Duration) error {
	if ttl <= 0 {
		return errBadTTL
	}
	key := s.keys.delivered(msg)
	mark := func(ctx context.Context, p redis.Pipeliner) {
		p.HSet(ctx, key, rcpt, "1")
		p.PExpire(ctx, key, ttl)
	}
	if h := s.held(ctx); h != nil && h.add(mark) {
		return nil
	}
	_, err := s.c.Pipelined(ctx, func(p redis.Pipeliner) error {
		mark(ctx, p)
		return nil
	})
	if err != nil {
		return fmt.Errorf("redisstore: mark delivered: %w", err)
	}
	return nil
}

// hitScript counts one hit and gives a new count its window. The TTL is
// set only when the key has none, so later hits do not push the window's
// end (a fixed window, as store.Counters says); checking PTTL rather than
// the count also repairs a key left without TTL by hand.
var hitScript = redis.NewScript(`
local n = redis.call('INCR', KEYS[1])
if redis.call('PTTL', KEYS[1]) < 0 then
	redis.call('PEXPIRE', KEYS[1], ARGV[1])
end
return n`)

// Hit adds one to key in one round trip; the script makes it atomic.
func (s *Store) Hit(ctx context.Context, key string, window time.Duration) (int64, error) {
	if window <= 0 {
		return 0, errBadWindow
	}
	ms := max(window.Milliseconds(), 1)
	n, err := hitScript.Run(ctx, s.c, []string{s.keys.counter(key)}, ms).Int64()
	if err != nil {
		return 0, fmt.Errorf("redisstore: hit: %w", err)
	}
	return n, nil
}

// Count returns key's count, 0 when absent or expired.
func (s *Store) Count(ctx context.Context, key string) (int64, error) {
	n, err := s.c.Get(ctx, s.keys.counter(key)).Int64()
	if errors.Is(err, redis.Nil) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("redisstore: count: %w", err)
	}
	return n, nil
}

// ResetCount deletes key.
func (s *Store) ResetCount(ctx context.Context, key string) error {
	if err := s.c.Del(ctx, s.keys.counter(key)).Err(); err != nil {
		return fmt.Errorf("redisstore: reset count: %w", err)
	}
	return nil
}
