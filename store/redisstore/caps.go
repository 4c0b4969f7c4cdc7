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

// reserveScript reserves keys in groups, each all or none: it counts
// every key of a group first and adds holds only when none is full. A
// group is one caller's recipient; the groups of a batch run one after
// the other, so a later one counts the holds an earlier one took.
// KEYS: one per cap key, group after group.
// ARGV: the number of groups, then per group its now and its number of
// keys, then six per key: cut (now-window), minus the expiry (now+hold),
// limit, id, ttl, window.
// Returns three integers per key: status (1 a new hold, 2 granted again
// because the id already holds or sent, 0 refused), count, next slot; in
// a refused group the other keys say what they would have been.
// A new id under the limit, the usual case, costs four commands:
// ZREMRANGEBYSCORE, ZCARD, ZADD NX (whose answer says the id was new, so
// no ZSCORE is needed) and PEXPIRE.
var reserveScript = redis.NewScript(rangesLua + nextSlotLua + `
-- regrant extends a live hold (LT keeps the later of two expiries);
-- a send stays as it is.
local function regrant(key, cur, b)
	if tonumber(cur) < 0 then
		redis.call('ZADD', key, 'LT', ARGV[b + 1], ARGV[b + 3])
		redis.call('PEXPIRE', key, ARGV[b + 4])
	end
end

local out, a, k = {}, 2, 0
for _ = 1, tonumber(ARGV[1]) do
	local now, n = ARGV[a], tonumber(ARGV[a + 1])
	a = a + 2
	local room, known, refused = {}, {}, false
	for i = 1, n do
		local key, b = KEYS[k + i], a + 6 * (i - 1)
		local cut, limit, id = ARGV[b], tonumber(ARGV[b + 2]), ARGV[b + 3]
		local scut, hcut, pmax = ranges(now, cut)
		redis.call('ZREMRANGEBYSCORE', key, '-' .. now, pmax)
		local c = redis.call('ZCARD', key)
		local o = #out
		out[o + 1], out[o + 2], out[o + 3] = 2, c, 0
		if c < limit then
			out[o + 1], out[o + 2] = 1, c + 1
			room[#room + 1] = {i, o}
		else
			local cur = redis.call('ZSCORE', key, id)
			if cur then
				known[#known + 1] = {i, cur}
			else
				refused = true
				local ns = redis.call('ZCOUNT', key, scut, '+inf')
				out[o + 1], out[o + 3] = 0, next_slot(key, ns, c - ns, limit, scut, hcut, tonumber(ARGV[b + 5]))
			end
		end
	end
	if not refused then
		for _, r in ipairs(room) do
			local i, o = r[1], r[2]
			local key, b = KEYS[k + i], a + 6 * (i - 1)
			if redis.call('ZADD', key, 'NX', ARGV[b + 1], ARGV[b + 3]) == 1 then
				redis.call('PEXPIRE', key, ARGV[b + 4])
			else
				out[o + 1], out[o + 2] = 2, out[o + 2] - 1
				regrant(key, redis.call('ZSCORE', key, ARGV[b + 3]), b)
			end
		end
		for _, r in ipairs(known) do
			regrant(KEYS[k + r[1]], r[2], a + 6 * (r[1] - 1))
		end
	end
	a, k = a + 6 * n, k + n
end
return out`)

// commitScript turns ids into sends, for one or more keys: a hold (live
// or expired), a send that left the window or nothing becomes a send at
// now; a send still in the window stays as it is. What left the window
// is pruned by the next reservation, not here. A live hold needs no new
// TTL: the reservation set one lasting the hold and the window, and the
// send counts for a window from before the hold ends.
// KEYS: one per cap key.  ARGV: four per key: now, cut, id, ttl.
var commitScript = redis.NewScript(`
for i = 1, #KEYS do
	local a = 4 * (i - 1)
	local now, id = tonumber(ARGV[a + 1]), ARGV[a + 3]
	local cur = redis.call('ZSCORE', KEYS[i], id)
	cur = cur and tonumber(cur)
	if not cur or cur <= math.max(tonumber(ARGV[a + 2]), 0) then
		redis.call('ZADD', KEYS[i], now, id)
		if not cur or -cur <= now then
			redis.call('PEXPIRE', KEYS[i], ARGV[a + 4])
		end
	end
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

// cluster says whether the store is a Redis Cluster, where a script may
// touch the keys of one slot only.
func (s *Store) cluster() bool {
	_, ok := s.c.(*redis.ClusterClient)
	return ok
}

// capBatchers merge concurrent callers' reserves and commits on a single
// node.
type capBatchers struct {
	reserve *batcher[*reserveJob]
	commit  *batcher[*commitJob]
}

func newCapBatchers(s *Store) capBatchers {
	return capBatchers{reserve: newBatcher(s.reserveBatch), commit: newBatcher(s.commitBatch)}
}

// millis is how times and durations travel to the scripts.
func millis(t time.Time) int64 { return t.UnixMilli() }

func ttlMillis(window, hold time.Duration) int64 { return (window + hold).Milliseconds() }

// Reserve costs one round trip (on a cluster, one per node involved, in
// parallel), granted or refused. On a single node one script takes every
// key of the request, atomic across the caps, and the requests of
// concurrent callers share a script run (see batcher). On a cluster a
// script must stay in one slot and a recipient's caps hash to different
// ones, so each key is its own call in one pipeline, and when a request
// is refused a second round trip removes the holds the other calls took.
func (s *Store) Reserve(ctx context.Context, reqs []caps.Request, now time.Time) ([]caps.Reservation, error) {
	if err := caps.CheckRequests(reqs); err != nil {
		return nil, fmt.Errorf("redisstore: reserve: %w", err)
	}
	if len(reqs) == 0 {
		return nil, nil
	}
	if s.cluster() {
		return s.reserveEach(ctx, reqs, now)
	}
	job := &reserveJob{reqs: reqs, at: millis(now)}
	s.capsBatch.reserve.do(ctx, job)
	if job.err != nil {
		return nil, fmt.Errorf("redisstore: reserve: %w", job.err)
	}
	return job.out, nil
}

// reserveJob is one caller's Reserve on a single node.
type reserveJob struct {
	reqs []caps.Request
	at   int64 // now, in ms
	out  []caps.Reservation
	err  error
}

// reserveBatch runs the jobs' requests in one script call, a group each.
// A refused group took nothing, so nothing needs giving back; when the
// call fails the script ran entirely or not at all, and holds it may have
// taken expire on their own.
func (s *Store) reserveBatch(ctx context.Context, jobs []*reserveJob) {
	call := scriptCall{args: []any{len(jobs)}}
	total := 0
	for _, j := range jobs {
		call.addReserveGroup(s.keys, j.reqs, j.at)
		total += len(j.reqs)
	}
	cmds, err := s.runScripts(ctx, reserveScript, []scriptCall{call})
	var v []int64
	if err == nil {
		v, err = cmds[0].Int64Slice()
	}
	if err == nil && len(v) != 3*total {
		err = fmt.Errorf("reserve script answered %d numbers for %d keys", len(v), total)
	}
	for _, j := range jobs {
		if err != nil {
			j.err = err
			continue
		}
		j.out = make([]caps.Reservation, len(j.reqs))
		readReservations(v[:3*len(j.reqs)], j.reqs, j.out)
		v = v[3*len(j.reqs):]
	}
}

// addReserveGroup appends a group of reserveScript: its header, then each
// request's key and six arguments.
func (c *scriptCall) addReserveGroup(k keys, reqs []caps.Request, at int64) {
	c.args = append(c.args, at, len(reqs))
	for _, r := range reqs {
		w := r.Window.Milliseconds()
		c.keys = append(c.keys, k.capKey(r.Key))
		c.args = append(c.args, at-w, -(at + r.Hold.Milliseconds()), r.Limit, r.ID, ttlMillis(r.Window, r.Hold), w)
	}
}

// readReservations reads three numbers per request into out and says
// which requests got a new hold and whether any was refused.
func readReservations(v []int64, reqs []caps.Request, out []caps.Reservation) (added []int, refused bool) {
	for i, r := range reqs {
		status, count, next := v[3*i], v[3*i+1], v[3*i+2]
		out[i] = caps.Reservation{OK: status != 0, Count: int(count), Limit: r.Limit}
		switch status {
		case 0:
			refused = true
			out[i].NextSlot = time.UnixMilli(next).UTC()
		case 1:
			added = append(added, i)
		}
	}
	return added, refused
}

// reserveEach is Reserve on a cluster: a script call per key, in one
// pipeline; when one is refused, the holds the others took go back.
func (s *Store) reserveEach(ctx context.Context, reqs []caps.Request, now time.Time) ([]caps.Reservation, error) {
	at := millis(now)
	calls := make([]scriptCall, len(reqs))
	for i := range reqs {
		calls[i].args = []any{1}
		calls[i].addReserveGroup(s.keys, reqs[i:i+1], at)
	}
	cmds, err := s.runScripts(ctx, reserveScript, calls)
	out := make([]caps.Reservation, len(reqs))
	var taken []caps.Slot
	refused := false
	for i, cmd := range cmds {
		v, cerr := cmd.Int64Slice()
		if cerr == nil && len(v) != 3 {
			cerr = fmt.Errorf("reserve script answered %v", v)
		}
		if cerr != nil {
			err = errors.Join(err, cerr)
			continue
		}
		added, no := readReservations(v, reqs[i:i+1], out[i:i+1])
		if len(added) > 0 {
			taken = append(taken, reqs[i].Slot)
		}
		refused = refused || no
	}
	if err != nil {
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

// Commit costs one round trip: on a single node one script call, shared
// with concurrent callers' commits; on a cluster a call per key in one
// pipeline. Under a HoldWrites context it costs none of its own.
func (s *Store) Commit(ctx context.Context, slots []caps.Slot, now time.Time) error {
	if err := caps.CheckSlots(slots); err != nil {
		return fmt.Errorf("redisstore: commit: %w", err)
	}
	if len(slots) == 0 {
		return nil
	}
	job := &commitJob{slots: slots, at: millis(now)}
	if h := s.held(ctx); h != nil && h.addScripts(commitScript, s.commitCalls(slots, job.at)) {
		return nil
	}
	if s.cluster() {
		_, job.err = s.runScripts(ctx, commitScript, s.commitCalls(slots, job.at))
	} else {
		s.capsBatch.commit.do(ctx, job)
	}
	if job.err != nil {
		return fmt.Errorf("redisstore: commit: %w", job.err)
	}
	return nil
}

// commitCalls are the script calls committing slots: one on a single
// node, one per key on a cluster, where a script stays in one slot.
func (s *Store) commitCalls(slots []caps.Slot, at int64) []scriptCall {
	if !s.cluster() {
		var c scriptCall
		for _, sl := range slots {
			c.addCommit(s.keys, sl, at)
		}
		return []scriptCall{c}
	}
	calls := make([]scriptCall, len(slots))
	for i := range slots {
		calls[i].addCommit(s.keys, slots[i], at)
	}
	return calls
}

// commitJob is one caller's Commit.
type commitJob struct {
	slots []caps.Slot
	at    int64
	err   error
}

// commitBatch commits every job's slots in one script call.
func (s *Store) commitBatch(ctx context.Context, jobs []*commitJob) {
	var call scriptCall
	for _, j := range jobs {
		for _, sl := range j.slots {
			call.addCommit(s.keys, sl, j.at)
		}
	}
	_, err := s.runScripts(ctx, commitScript, []scriptCall{call})
	for _, j := range jobs {
		j.err = err
	}
}

// addCommit appends one key of commitScript and its four arguments.
func (c *scriptCall) addCommit(k keys, sl caps.Slot, at int64) {
	c.keys = append(c.keys, k.capKey(sl.Key))
	c.args = append(c.args, at, at-sl.Window.Milliseconds(), sl.ID, ttlMillis(sl.Window, sl.Hold))
}

// Release removes each slot's hold, leaving a send of its id: one script
// call on a single node, a call per key in one pipeline on a cluster.
// Releases are rare (a refusal, a reset transaction), so they are not
// batched.
func (s *Store) Release(ctx context.Context, slots []caps.Slot) error {
	if err := caps.CheckSlots(slots); err != nil {
		return fmt.Errorf("redisstore: release: %w", err)
	}
	if len(slots) == 0 {
		return nil
	}
	calls := []scriptCall{{}}
	for i, sl := range slots {
		if s.cluster() && i > 0 {
			calls = append(calls, scriptCall{})
		}
		c := &calls[len(calls)-1]
		c.keys = append(c.keys, s.keys.capKey(sl.Key))
		c.args = append(c.args, sl.ID)
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
