package redisstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/dncgate/dncgate/caps"
)

// Frequency caps keep two sorted sets per cap key, under one hash tag so a
// script touches one cluster slot:
//
//	cap:{KEY}:s   committed sends: member = reservation id, score = time (ms)
//	cap:{KEY}:h   live holds: member = reservation id, score = expiry (ms)
//
// Every time is the caller's (ARGV), never the server's clock, so the
// gateway instances' clocks must agree (NTP) and tests can move time.
// Each write sets both keys' TTL to window+hold: by then everything in them
// has left the window, with the hold to spare for clocks a little apart.
// (After a cap's window is lengthened, an idle key may vanish by the old
// one.)

var _ caps.Store = (*Store)(nil)

// giveBackTimeout bounds the best-effort release of holds taken by a call
// that then failed, when the caller's context may be spent already.
const giveBackTimeout = 2 * time.Second

// nextSlotLua computes, after counting ns sends in the window and nh live
// holds, when the count falls below limit if nothing new is held (see
// caps.Reservation). The ranges exclude what no longer counts, so it also
// works on sets that were not pruned. Scores are integral milliseconds,
// exact in Lua's doubles.
const nextSlotLua = `
local function next_slot(sends, holds, ns, nh, limit, scut, hcut, window)
	local k = ns + nh - limit + 1
	if k <= ns then
		local r = redis.call('ZRANGEBYSCORE', sends, scut, '+inf', 'WITHSCORES', 'LIMIT', k - 1, 1)
		return tonumber(r[2]) + window
	end
	local r = redis.call('ZRANGEBYSCORE', holds, hcut, '+inf', 'WITHSCORES', 'LIMIT', k - ns - 1, 1)
	local t = tonumber(r[2])
	if ns > 0 then
		local s = redis.call('ZRANGEBYSCORE', sends, scut, '+inf', 'WITHSCORES', 'LIMIT', ns - 1, 1)
		t = math.max(t, tonumber(s[2]) + window)
	end
	return t
end
`

// reserveScript: KEYS sends, holds; ARGV now, cut (now-window), expiry
// (now+hold), limit, id, ttl, window. Returns {status, count, next}:
// status 1 a new hold, 2 granted again (id already held or sent), 0 refused.
// Sends older than the window are pruned by commits, not here: counting
// them with ZCOUNT costs no more, and a reservation then writes only when
// it grants.
var reserveScript = redis.NewScript(nextSlotLua + `
local sends, holds, id = KEYS[1], KEYS[2], ARGV[5]
local cut, exp = tonumber(ARGV[2]), tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', holds, '-inf', ARGV[1])
local ns = redis.call('ZCOUNT', sends, '(' .. ARGV[2], '+inf')
local nh = redis.call('ZCARD', holds)
local sent = redis.call('ZSCORE', sends, id)
if sent and tonumber(sent) > cut then
	return {2, ns + nh, 0}
end
local held = redis.call('ZSCORE', holds, id)
if not held and ns + nh >= tonumber(ARGV[4]) then
	return {0, ns + nh, next_slot(sends, holds, ns, nh, tonumber(ARGV[4]), '(' .. ARGV[2], '(' .. ARGV[1], tonumber(ARGV[7]))}
end
if not held or tonumber(held) < exp then
	redis.call('ZADD', holds, exp, id)
end
redis.call('PEXPIRE', holds, ARGV[6])
if held then
	return {2, ns + nh, 0}
end
return {1, ns + nh + 1, 0}`)

// commitScript: KEYS sends, holds; ARGV now, cut, id, ttl. Moving the id
// from holds to sends in one script keeps a concurrent reservation from
// seeing it in neither. Sends that left the window are pruned first, so NX
// keeps only an earlier send of the id that still counts.
var commitScript = redis.NewScript(`
redis.call('ZREM', KEYS[2], ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[2])
redis.call('ZADD', KEYS[1], 'NX', ARGV[1], ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return 1`)

// usageScript: KEYS sends, holds; ARGV now, cut, limit, window. Returns
// {count, next}; it writes nothing.
var usageScript = redis.NewScript(nextSlotLua + `
local scut, hcut, limit = '(' .. ARGV[2], '(' .. ARGV[1], tonumber(ARGV[3])
local ns = redis.call('ZCOUNT', KEYS[1], scut, '+inf')
local nh = redis.call('ZCOUNT', KEYS[2], hcut, '+inf')
if ns + nh < limit then
	return {ns + nh, 0}
end
return {ns + nh, next_slot(KEYS[1], KEYS[2], ns, nh, limit, scut, hcut, tonumber(ARGV[4]))}`)

func (k keys) capSends(key string) string { return k.prefix + "cap:{" + key + "}:s" }
func (k keys) capHolds(key string) string { return k.prefix + "cap:{" + key + "}:h" }
func (k keys) capPair(key string) []string {
	return []string{k.capSends(key), k.capHolds(key)}
}

// millis is how times and durations travel to the scripts.
func millis(t time.Time) int64 { return t.UnixMilli() }

func ttlMillis(window, hold time.Duration) int64 { return (window + hold).Milliseconds() }

// Reserve runs one script per request, all in one pipeline: one round
// trip (on a cluster, one per node involved, in parallel). When a request
// is refused, a second pipeline removes the holds the first one added.
func (s *Store) Reserve(ctx context.Context, reqs []caps.Request, now time.Time) ([]caps.Reservation, error) {
	for _, r := range reqs {
		if err := r.Check(); err != nil {
			return nil, fmt.Errorf("redisstore: reserve: %w", err)
		}
	}
	if len(reqs) == 0 {
		return nil, nil
	}
	at := millis(now)
	calls := make([]scriptCall, len(reqs))
	for i, r := range reqs {
		w := r.Window.Milliseconds()
		calls[i] = scriptCall{keys: s.keys.capPair(r.Key), args: []any{
			at, at - w, at + r.Hold.Milliseconds(), r.Limit, r.ID, ttlMillis(r.Window, r.Hold), w,
		}}
	}
	cmds, err := s.runScripts(ctx, reserveScript, calls)
	out, taken, refused, perr := parseReservations(cmds, reqs)
	if err = errors.Join(err, perr); err != nil {
		s.giveBack(ctx, taken)
		return nil, fmt.Errorf("redisstore: reserve: %w", err)
	}
	if refused && len(taken) > 0 {
		if err := s.Release(ctx, taken); err != nil {
			return nil, fmt.Errorf("redisstore: reserve: returning holds after a refusal: %w", err)
		}
	}
	return out, nil
}

// parseReservations reads the scripts' answers, and which slots got a new
// hold (those a refusal or a failure must give back).
func parseReservations(cmds []*redis.Cmd, reqs []caps.Request) (out []caps.Reservation, taken []caps.Slot, refused bool, err error) {
	out = make([]caps.Reservation, len(cmds))
	for i, cmd := range cmds {
		v, cerr := cmd.Int64Slice()
		if cerr == nil && len(v) != 3 {
			cerr = fmt.Errorf("reserve script answered %v", v)
		}
		if cerr != nil {
			err = errors.Join(err, cerr)
			continue
		}
		out[i] = caps.Reservation{OK: v[0] != 0, Count: int(v[1]), Limit: reqs[i].Limit}
		switch v[0] {
		case 0:
			refused = true
			out[i].NextSlot = time.UnixMilli(v[2]).UTC()
		case 1:
			taken = append(taken, reqs[i].Slot)
		}
	}
	return out, taken, refused, err
}

// giveBack releases, as well as it can, holds of a call that failed.
func (s *Store) giveBack(ctx context.Context, slots []caps.Slot) {
	if len(slots) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), giveBackTimeout)
	defer cancel()
	// Best effort: a hold left behind expires after its hold time.
	_ = s.Release(ctx, slots)
}

// Commit runs one commit script per slot in one pipeline: one round trip
// (per node, in parallel, on a cluster). A MULTI/EXEC block would cost the
// server less, but a cluster client cannot pipeline blocks of different
// slots, and a recipient's caps are spread over slots.
func (s *Store) Commit(ctx context.Context, slots []caps.Slot, now time.Time) error {
	if err := checkSlots(slots); err != nil {
		return fmt.Errorf("redisstore: commit: %w", err)
	}
	at := millis(now)
	calls := make([]scriptCall, len(slots))
	for i, sl := range slots {
		calls[i] = scriptCall{keys: s.keys.capPair(sl.Key), args: []any{
			at, at - sl.Window.Milliseconds(), sl.ID, ttlMillis(sl.Window, sl.Hold),
		}}
	}
	if _, err := s.runScripts(ctx, commitScript, calls); err != nil {
		return fmt.Errorf("redisstore: commit: %w", err)
	}
	return nil
}

// Release removes each slot's hold: one ZREM each, in one pipeline.
func (s *Store) Release(ctx context.Context, slots []caps.Slot) error {
	if err := checkSlots(slots); err != nil {
		return fmt.Errorf("redisstore: release: %w", err)
	}
	_, err := s.c.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, sl := range slots {
			p.ZRem(ctx, s.keys.capHolds(sl.Key), sl.ID)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("redisstore: release: %w", err)
	}
	return nil
}

func checkSlots(slots []caps.Slot) error {
	for _, sl := range slots {
		if err := sl.Check(); err != nil {
			return err
		}
	}
	return nil
}

// Usage counts without writing: one script.
func (s *Store) Usage(ctx context.Context, key string, limit int, window time.Duration, now time.Time) (caps.Reservation, error) {
	if err := caps.CheckUsage(key, limit, window); err != nil {
		return caps.Reservation{}, fmt.Errorf("redisstore: usage: %w", err)
	}
	at, w := millis(now), window.Milliseconds()
	cmds, err := s.runScripts(ctx, usageScript, []scriptCall{{keys: s.keys.capPair(key), args: []any{at, at - w, limit, w}}})
	if err != nil {
		return caps.Reservation{}, fmt.Errorf("redisstore: usage: %w", err)
	}
	v, err := cmds[0].Int64Slice()
	if err == nil && len(v) != 2 {
		err = fmt.Errorf("usage script answered %v", v)
	}
	if err != nil {
		return caps.Reservation{}, fmt.Errorf("redisstore: usage: %w", err)
	}
	res := caps.Reservation{OK: int(v[0]) < limit, Count: int(v[0]), Limit: limit}
	if !res.OK {
		res.NextSlot = time.UnixMilli(v[1]).UTC()
	}
	return res, nil
}

// Reset deletes both of key's sets; they share a slot, so one DEL does.
func (s *Store) Reset(ctx context.Context, key string) error {
	if err := s.c.Del(ctx, s.keys.capPair(key)...).Err(); err != nil {
		return fmt.Errorf("redisstore: reset cap: %w", err)
	}
	return nil
}

// scriptCall is one run of a script: its keys and arguments.
type scriptCall struct {
	keys []string
	args []any
}

// runScripts runs script once per call in one pipeline, by EVALSHA (the
// script's digest, not its text). Calls the server answers NOSCRIPT (after
// a restart or SCRIPT FLUSH, or on a node new to the cluster) run again by
// EVAL in a second pipeline, which also caches the script there. A
// NOSCRIPT call did not run, so running it again cannot apply it twice.
// It returns the first call's error, if any.
func (s *Store) runScripts(ctx context.Context, script *redis.Script, calls []scriptCall) ([]*redis.Cmd, error) {
	cmds := make([]*redis.Cmd, len(calls))
	// Errors are read per command below; Pipelined's is the first of them.
	_, _ = s.c.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, c := range calls {
			cmds[i] = script.EvalSha(ctx, p, c.keys, c.args...)
		}
		return nil
	})
	var again []int
	for i, cmd := range cmds {
		if redis.HasErrorPrefix(cmd.Err(), "NOSCRIPT") {
			again = append(again, i)
		}
	}
	if len(again) > 0 {
		_, _ = s.c.Pipelined(ctx, func(p redis.Pipeliner) error {
			for _, i := range again {
				cmds[i] = script.Eval(ctx, p, calls[i].keys, calls[i].args...)
			}
			return nil
		})
	}
	for i, cmd := range cmds {
		if err := cmd.Err(); err != nil {
			return cmds, fmt.Errorf("script call %d of %d: %w", i+1, len(cmds), err)
		}
	}
	return cmds, nil
}
