package redisstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/redis/go-redis/v9"

	"github.com/dncgate/dncgate/contactdb"
)

// contactBeginScript condemns every import still running (p:VID becomes
// d:VID): only the latest may commit. It registers a new one with ARGV[1]
// bucket bits and returns its id, then every condemned "VID:BITS".
var contactBeginScript = redis.NewScript(`
local condemned = {}
for _, f in ipairs(redis.call('HKEYS', KEYS[1])) do
	local state, id = string.sub(f, 1, 2), string.sub(f, 3)
	if state == 'p:' or state == 'd:' then
		local b = redis.call('HGET', KEYS[1], f)
		if state == 'p:' then
			redis.call('HDEL', KEYS[1], f)
			redis.call('HSET', KEYS[1], 'd:' .. id, b)
		end
		condemned[#condemned + 1] = id .. ':' .. b
	end
end
local id = redis.call('HINCRBY', KEYS[1], 'seq', 1)
redis.call('HSET', KEYS[1], 'p:' .. id, ARGV[1])
return {id, condemned}
`)

// contactSwitchScript makes import ARGV[1] current (cur = ARGV[2], ver =
// ARGV[3]) if it is still running, and condemns the version it replaces.
// It returns that version, ” when there was none, or nil when the import
// was condemned.
var contactSwitchScript = redis.NewScript(`
if not redis.call('HGET', KEYS[1], 'p:' .. ARGV[1]) then return false end
local old = redis.call('HGET', KEYS[1], 'cur')
redis.call('HDEL', KEYS[1], 'p:' .. ARGV[1])
redis.call('HSET', KEYS[1], 'cur', ARGV[2], 'ver', ARGV[3])
if not old then return '' end
local id, b = string.match(old, '^(%d+):(%d+)$')
redis.call('HSET', KEYS[1], 'd:' .. id, b)
return old
`)

// BeginImport sizes the new version by expect, or by the current one when
// expect is 0, then deletes what earlier imports left.
func (c *contactStore) BeginImport(ctx context.Context, expect int64) (contactdb.Writer, error) {
	if expect <= 0 {
		cur, err := c.Current(ctx)
		if err != nil {
			return nil, err
		}
		expect = cur.Entries
	}
	v := ctVersion{bits: contactBits(expect)}
	res, err := contactBeginScript.Run(ctx, c.s.c, []string{c.s.keys.contactHead()}, v.bits).Slice()
	if err != nil || len(res) != 2 {
		return nil, fmt.Errorf("redisstore: contacts: new version: %v %w", res, err)
	}
	v.id, _ = res[0].(int64)
	condemned, _ := res[1].([]any)
	for _, it := range condemned {
		s, _ := it.(string)
		if err := c.sweep(ctx, s); err != nil {
			return nil, fmt.Errorf("redisstore: contacts: sweeping old versions: %w", err)
		}
	}
	return &contactWriter{c: c, v: v}, nil
}

// sweep deletes the buckets of a condemned "VID:BITS", then its mark.
func (c *contactStore) sweep(ctx context.Context, version string) error {
	v, err := parseCtVersion(version)
	if err != nil {
		return err
	}
	if err := c.deleteBuckets(ctx, v); err != nil {
		return err
	}
	return c.s.c.HDel(ctx, c.s.keys.contactHead(), "d:"+strconv.FormatInt(v.id, 10)).Err()
}

// contactBuffer bounds the records an import holds before writing them.
const contactBuffer = 1 << 17

var errContactWriterDone = errors.New("redisstore: contacts import already committed or aborted")

// contactWriter fills one version of the contacts.
type contactWriter struct {
	c       *contactStore
	v       ctVersion
	added   int64 // records given to Add
	entries int64 // fields new to their bucket
	buf     map[uint32][]any
	held    int
	done    bool
}

// Add encodes the batch into per-bucket field lists, in the order given,
// so that a later record for an e-mail is set after the earlier one.
func (w *contactWriter) Add(ctx context.Context, recs []contactdb.Record) error {
	if w.done {
		return errContactWriterDone
	}
	if w.buf == nil {
		w.buf = map[uint32][]any{}
	}
	for i := range recs {
		rec, err := contactdb.Encode(recs[i].Contact)
		if err != nil {
			return fmt.Errorf("redisstore: contacts: record %d of the batch: %w", i, err)
		}
		b := w.v.bucket(&recs[i].Email)
		w.buf[b] = append(w.buf[b], contactField(&recs[i].Email), rec)
		w.added++
		if w.held++; w.held == contactBuffer {
			if err := w.flush(ctx); err != nil {
				return err
			}
		}
	}
	return nil
}

// flush writes the buffer as one HSET per bucket, pipelined. HSET counts
// the fields it creates, not those it overwrites: their sum is the number
// of distinct e-mails.
func (w *contactWriter) flush(ctx context.Context) error {
	p := w.c.s.c.Pipeline()
	var cmds []*redis.IntCmd
	exec := func() error {
		if _, err := p.Exec(ctx); err != nil {
			return fmt.Errorf("redisstore: contacts: version %d: %w", w.v.id, err)
		}
		for _, cmd := range cmds {
			w.entries += cmd.Val()
		}
		cmds = cmds[:0]
		return nil
	}
	for b, fv := range w.buf {
		cmds = append(cmds, p.HSet(ctx, w.c.s.keys.contactBucket(w.v, b), fv...))
		if p.Len() == contactKeysPerPipeline {
			if err := exec(); err != nil {
				return err
			}
		}
	}
	if err := exec(); err != nil {
		return err
	}
	clear(w.buf)
	w.held = 0
	return nil
}

// Commit marks every bucket as whole, switches in one script, then deletes
// the version replaced.
func (w *contactWriter) Commit(ctx context.Context, v contactdb.Version) (contactdb.Version, error) {
	if w.done {
		return v, errContactWriterDone
	}
	if err := w.flush(ctx); err != nil {
		return v, err
	}
	w.done = true
	v.ID, v.Entries, v.Duplicates = strconv.FormatInt(w.v.id, 10), w.entries, w.added-w.entries
	if err := w.markBuckets(ctx); err != nil {
		return v, fmt.Errorf("redisstore: contacts: committing version %d: %w", w.v.id, err)
	}
	stored := v
	stored.ID = ""
	info, err := json.Marshal(stored)
	if err != nil {
		return v, err
	}
	old, err := contactSwitchScript.Run(ctx, w.c.s.c, []string{w.c.s.keys.contactHead()},
		w.v.id, w.v.String(), info).Text()
	if errors.Is(err, redis.Nil) {
		// Condemned by a later import, which may have swept already.
		_ = w.c.deleteBuckets(ctx, w.v)
		return v, fmt.Errorf("redisstore: contacts: version %d: %w", w.v.id, contactdb.ErrSuperseded)
	}
	if err != nil {
		return v, fmt.Errorf("redisstore: contacts: committing version %d: %w", w.v.id, err)
	}
	w.c.learn(w.v)
	if old != "" {
		if err := w.c.sweep(ctx, old); err != nil {
			return v, fmt.Errorf("redisstore: contacts: committed, but deleting the old version: %w (the next import retries)", err)
		}
	}
	return v, nil
}

// markBuckets writes the sentinel into every bucket, empty ones included.
func (w *contactWriter) markBuckets(ctx context.Context) error {
	n := uint32(1) << w.v.bits
	for from := uint32(0); from < n; from += contactKeysPerPipeline {
		_, err := w.c.s.c.Pipelined(ctx, func(p redis.Pipeliner) error {
			for b := from; b < min(n, from+contactKeysPerPipeline); b++ {
				p.HSet(ctx, w.c.s.keys.contactBucket(w.v, b), contactSentinel, "")
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// Abort deletes the buckets written, then the running mark.
func (w *contactWriter) Abort(ctx context.Context) error {
	if w.done {
		return errContactWriterDone
	}
	w.done = true
	w.buf = nil
	if err := w.c.deleteBuckets(ctx, w.v); err != nil {
		return fmt.Errorf("redisstore: contacts: aborting: %w", err)
	}
	if err := w.c.s.c.HDel(ctx, w.c.s.keys.contactHead(), "p:"+strconv.FormatInt(w.v.id, 10)).Err(); err != nil {
		return fmt.Errorf("redisstore: contacts: aborting: %w", err)
	}
	return nil
}
