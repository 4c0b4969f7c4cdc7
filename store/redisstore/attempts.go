package redisstore

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/dncgate/dncgate/store"
)

// attemptScript counts one attempt against every key unless one has
// reached its limit. KEYS are the counters, ARGV[1] the window in
// milliseconds and ARGV[1+i] KEYS[i]'s limit. It returns 1 or 0 (counted
// or refused) followed by the counts before the attempt. The window is
// set only on a key without TTL, as hitScript does: a fixed window.
var attemptScript = redis.NewScript(`
local out = {1}
for i, k in ipairs(KEYS) do
	local n = tonumber(redis.call('GET', k) or '0')
	if n >= tonumber(ARGV[i + 1]) then out[1] = 0 end
	out[i + 1] = n
end
if out[1] == 0 then return out end
for _, k in ipairs(KEYS) do
	redis.call('INCR', k)
	if redis.call('PTTL', k) < 0 then redis.call('PEXPIRE', k, ARGV[1]) end
end
return out`)

// giveBackScript deletes the first ARGV[1] KEYS and takes one off each of
// the others that is above zero.
var giveBackScript = redis.NewScript(`
local reset = tonumber(ARGV[1])
for i, k in ipairs(KEYS) do
	if i <= reset then
		redis.call('DEL', k)
	elseif tonumber(redis.call('GET', k) or '0') > 0 then
		redis.call('DECR', k)
	end
end
return 1`)

// ReserveAttempt runs attemptScript: one round trip. All attempt keys
// carry the {login} hash tag, so a cluster runs the script on one slot.
func (s *Store) ReserveAttempt(ctx context.Context, keys []store.AttemptKey, window time.Duration) ([]int64, bool, error) {
	if window <= 0 {
		return nil, false, errBadWindow
	}
	names := make([]string, len(keys))
	args := make([]any, 0, len(keys)+1)
	args = append(args, max(window.Milliseconds(), 1))
	for i, k := range keys {
		names[i] = s.keys.attempt(k.Key)
		args = append(args, strconv.FormatInt(k.Limit, 10))
	}
	v, err := attemptScript.Run(ctx, s.c, names, args...).Int64Slice()
	if err != nil {
		return nil, false, fmt.Errorf("redisstore: reserve attempt: %w", err)
	}
	if len(v) != len(keys)+1 {
		return nil, false, fmt.Errorf("redisstore: reserve attempt: %d answers for %d keys", len(v), len(keys))
	}
	return v[1:], v[0] == 1, nil
}

// SettleAttempt runs giveBackScript: one round trip.
func (s *Store) SettleAttempt(ctx context.Context, reset, release []string) error {
	names := make([]string, 0, len(reset)+len(release))
	for _, k := range append(append([]string(nil), reset...), release...) {
		names = append(names, s.keys.attempt(k))
	}
	if len(names) == 0 {
		return nil
	}
	if err := giveBackScript.Run(ctx, s.c, names, len(reset)).Err(); err != nil {
		return fmt.Errorf("redisstore: settle attempt: %w", err)
	}
	return nil
}
