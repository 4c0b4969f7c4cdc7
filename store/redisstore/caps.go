package redisstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/dncgate/dncgate/caps"
)

// Frequency caps keep one sorted set per cap key, its name hash-tagged so
// that on a cluster a script on one key touches one slot:
//
//	cap:{KEY}   member = reservation id; score = the send's time (ms) for
//	            a committed send, minus the expiry (ms) for a live hold
//
// One id is either held or sent, never both, so one ZSCORE says which;
// sends score above zero and holds below (times are after 1970), so one
// ZREMRANGEBYSCORE from -now to now-window drops both what left the window
// and what expired, and the card then counts what is left. One key, not a
// set each, halves the commands a check runs.
//
// Every time is the caller's (ARGV), never the server's clock, so the
// gateway instances' clocks must agree (NTP) and tests can move time.
// Each write sets the key's TTL to window+hold: by then everything in it
// has left the window, with the hold to spare for clocks a little apart.
// (After a cap's window is lengthened, an idle key may vanish by the old
// one.)

var _ caps.Store = (*Store)(nil)

// giveBackTimeout bounds the best-effort release of holds taken by a call
// that then failed, when the caller's context may be spent already.
const giveBackTimeout = 2 * time.Second

// rangesLua names the score ranges of a key for now and cut (now-window),
// as strings for ZCOUNT and its kin: sends in the window (scut, +inf),
// live holds (-inf, hcut), and what prune removes, [-now, pmax]. When the
// window reaches back before 1970 (cut < 0) no send has left it.
const rangesLua = `
local function ranges(now, cut)
	local c = tonumber(cut)
	if c < 0 then
		return '(0', '(-' .. now, '(0'
	end
	return '(' .. cut, '(-' .. now, cut
end
`

// nextSlotLua computes, after counting ns sends in the window and nh live
// holds, when the count falls below limit if nothing new is held (see
// caps.Reservation): the k-th oldest send leaving the window, or the later
// of the newest send leaving and enough holds expiring (holds by expiry
// are by score descending). Scores are integral milliseconds, exact in
// Lua's doubles.
const nextSlotLua = `
local function next_slot(key, ns, nh, limit, scut, hcut, window)
	local k = ns + nh - limit + 1
	if k <= ns then
		local r = redis.call('ZRANGEBYSCORE', key, scut, '+inf', 'WITHSCORES', 'LIMIT', k - 1, 1)
		return tonumber(r[2]) + window
	end
	local r = redis.call('ZREVRANGEBYSCORE', key, hcut, '-inf', 'WITHSCORES', 'LIMIT', k - ns - 1, 1)
	local t = -tonumber(r[2])
	if ns > 0 then
		local s = redis.call('ZREVRANGEBYSCORE', key, '+inf', scut, 'WITHSCORES', 'LIMIT', 0, 1)
		t = math.max(t, tonumber(s[2]) + window)
	end
	return t
end
`

// reserveScript reserves one or more keys, all or none: it counts every
// key first and adds holds only when none is full.
// KEYS: one per cap key.
// ARGV: now, then six per key: cut (now-window), minus the expiry
// (now+hold), limit, id, ttl, window.
// Returns three integers per key: status (1 a new hold, 2 granted again
// because the id already holds or sent, 0 refused), count, next slot.
// Per granted key: ZREMRANGEBYSCORE, ZCARD, ZSCORE, ZADD, PEXPIRE.
var reserveScript = redis.NewScript(rangesLua + nextSlotLua + `
local now, out, grant, refused = ARGV[1], {}, {}, false
for i = 1, #KEYS do
	local key, a = KEYS[i], 1 + 6 * (i - 1)
	local cut, limit, id = ARGV[a + 1], tonumber(ARGV[a + 3]), ARGV[a + 4]
	local scut, hcut, pmax = ranges(now, cut)
	redis.call('ZREMRANGEBYSCORE', key, '-' .. now, pmax)
	local n = redis.call('ZCARD', key)
	local status, count, next = 2, n, 0
	local cur = redis.call('ZSCORE', key, id)
	if cur and tonumber(cur) < 0 then
		grant[#grant + 1] = i
	elseif not cur then
		if n < limit then
			status, count = 1, n + 1
			grant[#grant + 1] = i
		else
			status, refused = 0, true
			local ns = redis.call('ZCOUNT', key, scut, '+inf')
			next = next_slot(key, ns, n - ns, limit, scut, hcut, tonumber(ARGV[a + 6]))
		end
	end
	out[3 * i - 2], out[3 * i - 1], out[3 * i] = status, count, next
end
if not refused then
	for _, i in ipairs(grant) do
		local a = 1 + 6 * (i - 1)
		-- LT: a hold re-granted keeps the later of its two expiries.
		redis.call('ZADD', KEYS[i], 'LT', ARGV[a + 2], ARGV[a + 4])
		redis.call('PEXPIRE', KEYS[i], ARGV[a + 5])
	end
end
return out`)

// commitScript turns ids into sends at now, for one or more keys: a hold
// (live or expired), a send that left the window or nothing becomes a
// send at now; a send still in the window stays as it is. What left the
// window is pruned by the next reservation, not here.
// KEYS: one per cap key.  ARGV: now, then three per key: cut, id, ttl.
var commitScript = redis.NewScript(`
local now = ARGV[1]
for i = 1, #KEYS do
	local a = 1 + 3 * (i - 1)
	local cur = redis.call('ZSCORE', KEYS[i], ARGV[a + 2])
	if not cur or tonumber(cur) <= math.max(tonumber(ARGV[a + 1]), 0) then
		redis.call('ZADD', KEYS[i], now, ARGV[a + 2])
	end
	redis.call('PEXPIRE', KEYS[i], ARGV[a + 3])
end
return #KEYS`)

// releaseScript removes ids' holds, never their sends.
// KEYS: one per cap key.  ARGV: one id per key.
var releaseScript = redis.NewScript(`
for i = 1, #KEYS do
	local cur = redis.call('ZSCORE', KEYS[i], ARGV[i])
	if cur and tonumber(cur) < 0 then
		redis.call('ZREM', KEYS[i], ARGV[i])
	end
end
return #KEYS`)

// usageScript: KEYS the cap key; ARGV now, cut, limit, window. Returns
// {count, next}; it writes nothing.
var usageScript = redis.NewScript(rangesLua + nextSlotLua + `
local scut, hcut = ranges(ARGV[1], ARGV[2])
local limit = tonumber(ARGV[3])
local ns = redis.call('ZCOUNT', KEYS[1], scut, '+inf')
local nh = redis.call('ZCOUNT', KEYS[1], '-inf', hcut)
if ns + nh < limit then
	return {ns + nh, 0}
end
return {ns + nh, next_slot(KEYS[1], ns, nh, limit, scut, hcut, tonumber(ARGV[4]))}`)

func (k keys) capKey(key string) string { return k.prefix + "cap:{" + key + "}" }

// millis is how times and durations travel to the scripts.
func millis(t time.Time) int64 { return t.UnixMilli() }

func ttlMillis(window, hold time.Duration) int64 { return (window + hold).Milliseconds() }

// batches groups n keys into script calls. On a single node one script
// takes them all: one command, atomic across the caps, so a refusal needs
// no second round trip. On a cluster a script must stay in one slot and a
// recipient's caps hash to different ones, so each key is its own call;
// the calls still share one pipeline.
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
			calls[g].keys = append(calls[g].keys, s.keys.capKey(r.Key))
			calls[g].args = append(calls[g].args, at-w, -(at + r.Hold.Milliseconds()), r.Limit, r.ID, ttlMillis(r.Window, r.Hold), w)
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
	if len(slots) == 0 {
		return nil
	}
	at := millis(now)
	groups := s.batches(len(slots))
	calls := make([]scriptCall, len(groups))
	for g, idx := range groups {
		calls[g].args = []any{at}
		for _, i := range idx {
			sl := slots[i]
			calls[g].keys = append(calls[g].keys, s.keys.capKey(sl.Key))
			calls[g].args = append(calls[g].args, at-sl.Window.Milliseconds(), sl.ID, ttlMillis(sl.Window, sl.Hold))
		}
	}
	if _, err := s.runScripts(ctx, commitScript, calls); err != nil {
		return fmt.Errorf("redisstore: commit: %w", err)
	}
	return nil
}

// Release removes each slot's hold, leaving a send of its id: one script
// call, grouped as Reserve's are.
func (s *Store) Release(ctx context.Context, slots []caps.Slot) error {
	if err := caps.CheckSlots(slots); err != nil {
		return fmt.Errorf("redisstore: release: %w", err)
	}
	if len(slots) == 0 {
		return nil
	}
	groups := s.batches(len(slots))
	calls := make([]scriptCall, len(groups))
	for g, idx := range groups {
		for _, i := range idx {
			calls[g].keys = append(calls[g].keys, s.keys.capKey(slots[i].Key))
			calls[g].args = append(calls[g].args, slots[i].ID)
		}
	}
	if _, err := s.runScripts(ctx, releaseScript, calls); err != nil {
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
	cmds, err := s.runScripts(ctx, usageScript, []scriptCall{{keys: []string{s.keys.capKey(key)}, args: []any{at, at - w, limit, w}}})
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

// Reset deletes key's set.
func (s *Store) Reset(ctx context.Context, key string) error {
	if err := s.c.Del(ctx, s.keys.capKey(key)).Err(); err != nil {
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
