package redisstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/dncgate/dncgate/caps"
)

// Frequency caps keep two sorted sets per cap key, under one hash tag so
// that on a cluster a script on one key touches one slot:
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

// reserveScript reserves one or more key pairs, all or none: it counts
// every pair first and adds holds only when none is full.
// KEYS: sends1, holds1, sends2, holds2, …
// ARGV: now, then six per pair: cut (now-window), expiry (now+hold),
// limit, id, ttl, window.
// Returns three integers per pair: status (1 a new hold, 2 granted again
// because the id already holds or sent, 0 refused), count, next slot.
// Sends older than the window are pruned by commits, not here: counting
// them with ZCOUNT costs no more, and a reservation writes only to holds.
var reserveScript = redis.NewScript(nextSlotLua + `
local now, out, grant, refused = ARGV[1], {}, {}, false
for i = 1, #KEYS / 2 do
	local sends, holds, a = KEYS[2 * i - 1], KEYS[2 * i], 1 + 6 * (i - 1)
	local cut, limit, id = ARGV[a + 1], tonumber(ARGV[a + 3]), ARGV[a + 4]
	redis.call('ZREMRANGEBYSCORE', holds, '-inf', now)
	local ns = redis.call('ZCOUNT', sends, '(' .. cut, '+inf')
	local nh = redis.call('ZCARD', holds)
	local status, count, next = 2, ns + nh, 0
	local sent = redis.call('ZSCORE', sends, id)
	if not sent or tonumber(sent) <= tonumber(cut) then
		local held = redis.call('ZSCORE', holds, id)
		if held then
			grant[#grant + 1] = {i, tonumber(held)}
		elseif count < limit then
			status, count = 1, count + 1
			grant[#grant + 1] = {i, 0}
		else
			status, refused = 0, true
			next = next_slot(sends, holds, ns, nh, limit, '(' .. cut, '(' .. now, tonumber(ARGV[a + 6]))
		end
	end
	out[3 * i - 2], out[3 * i - 1], out[3 * i] = status, count, next
end
if not refused then
	for _, g in ipairs(grant) do
		local i, held = g[1], g[2]
		local holds, a = KEYS[2 * i], 1 + 6 * (i - 1)
		local exp = tonumber(ARGV[a + 2])
		if held < exp then
			redis.call('ZADD', holds, exp, ARGV[a + 4])
		end
		redis.call('PEXPIRE', holds, ARGV[a + 5])
	end
end
return out`)

// commitScript moves ids from holds to sends, for one or more key pairs.
// Doing it in a script keeps a concurrent reservation from seeing an id in
// neither set. Sends that left the window are pruned first, so NX keeps
// only an earlier send of the id that still counts.
// KEYS: sends1, holds1, …  ARGV: now, then three per pair: cut, id, ttl.
var commitScript = redis.NewScript(`
local now = ARGV[1]
for i = 1, #KEYS / 2 do
	local sends, a = KEYS[2 * i - 1], 1 + 3 * (i - 1)
	redis.call('ZREM', KEYS[2 * i], ARGV[a + 2])
	redis.call('ZREMRANGEBYSCORE', sends, '-inf', ARGV[a + 1])
	redis.call('ZADD', sends, 'NX', now, ARGV[a + 2])
	redis.call('PEXPIRE', sends, ARGV[a + 3])
end
return #KEYS / 2`)

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

// batches groups n key pairs into script calls. On a single node one
// script takes them all: one command, atomic across the caps, so a refusal
// needs no second round trip. On a cluster a script must stay in one slot
// and a recipient's caps hash to different ones, so each pair is its own
// call; the calls still share one pipeline.
func (s *Store) batches(n int) [][]int {
	if _, cluster := s.c.(*redis.ClusterClient); !cluster {
		all := make([]int, n)
		for i := range all {
			all[i] = i
		}
		return [][]int{all}
	}
	each := make([][]int, n)
	for i := range each {
		each[i] = []int{i}
	}
	return each
}

// Reserve costs one round trip (on a cluster, one per node involved, in
// parallel). On a cluster, when a request is refused, a second round trip
// removes the holds that calls for other slots added.
func (s *Store) Reserve(ctx context.Context, reqs []caps.Request, now time.Time) ([]caps.Reservation, error) {
	if err := caps.CheckRequests(reqs); err != nil {
		return nil, fmt.Errorf("redisstore: reserve: %w", err)
	}
	if len(reqs) == 0 {
		return nil, nil
	}
	at := millis(now)
	groups := s.batches(len(reqs))
	calls := make([]scriptCall, len(groups))
	for g, idx := range groups {
		calls[g].args = []any{at}
		for _, i := range idx {
			r, w := reqs[i], reqs[i].Window.Milliseconds()
			calls[g].keys = append(calls[g].keys, s.keys.capPair(r.Key)...)
			calls[g].args = append(calls[g].args, at-w, at+r.Hold.Milliseconds(), r.Limit, r.ID, ttlMillis(r.Window, r.Hold), w)
		}
	}
	cmds, err := s.runScripts(ctx, reserveScript, calls)
	out, taken, refused, perr := parseReservations(cmds, groups, reqs)
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
// hold: those of calls without a refusal (a call with one adds nothing),
// which a refusal elsewhere or a failure must give back.
func parseReservations(cmds []*redis.Cmd, groups [][]int, reqs []caps.Request) (out []caps.Reservation, taken []caps.Slot, refused bool, err error) {
	out = make([]caps.Reservation, len(reqs))
	for g, cmd := range cmds {
		v, cerr := cmd.Int64Slice()
		if cerr == nil && len(v) != 3*len(groups[g]) {
			cerr = fmt.Errorf("reserve script answered %v", v)
		}
		if cerr != nil {
			err = errors.Join(err, cerr)
			continue
		}
		callRefused := false
		for j, i := range groups[g] {
			status, count, next := v[3*j], v[3*j+1], v[3*j+2]
			out[i] = caps.Reservation{OK: status != 0, Count: int(count), Limit: reqs[i].Limit}
			if status == 0 {
				callRefused = true
				out[i].NextSlot = time.UnixMilli(next).UTC()
			}
		}
		for j, i := range groups[g] {
			if v[3*j] == 1 && !callRefused {
				taken = append(taken, reqs[i].Slot)
			}
		}
		refused = refused || callRefused
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

// Commit costs one round trip, grouped as Reserve is.
func (s *Store) Commit(ctx context.Context, slots []caps.Slot, now time.Time) error {
	if err := caps.CheckSlots(slots); err != nil {
		return fmt.Errorf("redisstore: commit: %w", err)
	}
	at := millis(now)
	groups := s.batches(len(slots))
	calls := make([]scriptCall, len(groups))
	for g, idx := range groups {
		calls[g].args = []any{at}
		for _, i := range idx {
			sl := slots[i]
			calls[g].keys = append(calls[g].keys, s.keys.capPair(sl.Key)...)
			calls[g].args = append(calls[g].args, at-sl.Window.Milliseconds(), sl.ID, ttlMillis(sl.Window, sl.Hold))
		}
	}
	if _, err := s.runScripts(ctx, commitScript, calls); err != nil {
		return fmt.Errorf("redisstore: commit: %w", err)
	}
	return nil
}

// Release removes each slot's hold: one ZREM each, in one pipeline.
func (s *Store) Release(ctx context.Context, slots []caps.Slot) error {
	if err := caps.CheckSlots(slots); err != nil {
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
	if len(calls) == 1 { // the same, without the pipeline's bookkeeping
		cmd := script.Run(ctx, s.c, calls[0].keys, calls[0].args...)
		return []*redis.Cmd{cmd}, cmd.Err()
	}
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
