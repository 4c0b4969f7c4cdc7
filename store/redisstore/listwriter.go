package redisstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/redis/go-redis/v9"

	"github.com/dncgate/dncgate/listdb"
)

// beginScript registers a new version as running (p:VID) and marks every
// other running one as to delete (d:VID): only the latest import of a list
// may commit. It returns the new id, then every version to delete.
var beginScript = redis.NewScript(`
if redis.call('HEXISTS', KEYS[1], 'x') == 0 then return -1 end
local out = {}
local all = redis.call('HGETALL', KEYS[1])
for i = 1, #all, 2 do
	local kind, id = string.sub(all[i], 1, 2), string.sub(all[i], 3)
	if kind == 'p:' then
		redis.call('HDEL', KEYS[1], all[i])
		redis.call('HSET', KEYS[1], 'd:' .. id, all[i+1])
	end
	if kind == 'p:' or kind == 'd:' then table.insert(out, id .. ':' .. all[i+1]) end
end
local id = redis.call('HINCRBY', KEYS[1], 'seq', 1)
redis.call('HSET', KEYS[1], 'p:' .. id, ARGV[1])
table.insert(out, 1, id)
return out
`)

// switchScript makes a running version current in one step and keeps the
// one it replaces (k:VID = BITS, i:VID = its version's JSON); the kept
// versions beyond ARGV[4], oldest first, are marked to delete (d:VID). It
// returns those, as "VID:BITS".
var switchScript = redis.NewScript(luaTrimKept + `
if redis.call('HEXISTS', KEYS[1], 'x') == 0 then return -1 end
if redis.call('HEXISTS', KEYS[1], 'p:' .. ARGV[1]) == 0 then return -2 end
local old = redis.call('HGET', KEYS[1], 'cur')
local oldver = redis.call('HGET', KEYS[1], 'ver')
redis.call('HSET', KEYS[1], 'cur', ARGV[2], 'ver', ARGV[3])
redis.call('HDEL', KEYS[1], 'p:' .. ARGV[1])
if old then
	local oid, obits = string.match(old, '^(%d+):(%d+)$')
	redis.call('HSET', KEYS[1], 'k:' .. oid, obits, 'i:' .. oid, oldver or '{}')
end
return trimKept(KEYS[1], tonumber(ARGV[4]))
`)

// BeginVersion sizes// BeginVersion sizes the new version by expect, or by the current version
// when expect is 0, then deletes what earlier imports left.
func (s *Store) BeginVersion(ctx context.Context, name string, expect int64) (listdb.Writer, error) {
	_, cur, err := s.List(ctx, name)
	if err != nil {
		return nil, err
	}
	v := version{bits: bucketBits(max(expect, cur.Entries))}
	res, err := beginScript.Run(ctx, s.c, []string{s.keys.listMeta(name)}, v.bits).Result()
	if err != nil {
		return nil, fmt.Errorf("redisstore: list %s: new version: %w", name, err)
	}
	items, ok := res.([]any)
	if !ok {
		return nil, notFound(name) // dropped since List
	}
	v.id, _ = items[0].(int64)
	if err := s.sweep(ctx, name, items[1:]); err != nil {
		return nil, fmt.Errorf("redisstore: list %s: sweeping old versions: %w", name, err)
	}
	return &listWriter{s: s, list: name, v: v}, nil
}

// sweep deletes the buckets of versions marked to delete, then the marks.
func (s *Store) sweep(ctx context.Context, name string, versions []any) error {
	if err := s.deleteVersions(ctx, name, versions); err != nil {
		return err
	}
	for _, it := range versions {
		str, _ := it.(string)
		v, _ := parseVersion(str)
		if err := s.c.HDel(ctx, s.keys.listMeta(name), "d:"+strconv.FormatInt(v.id, 10)).Err(); err != nil {
			return err
		}
	}
	return nil
}

// listWriter fills one version of one list.
type listWriter struct {
	s       *Store
	list    string
	v       version
	entries int64
	buf     []listdb.Digest // not yet written, up to bufferEntries
	done    bool
}

// bufferEntries bounds the digests an import holds in memory (4 MiB).
const bufferEntries = 1 << 18

var errWriterDone = errors.New("redisstore: import already committed or aborted")

// Add buffers the batch; a full buffer is written as one HSET per bucket,
// pipelined. The larger the buffer, the more fields each HSET carries.
func (w *listWriter) Add(ctx context.Context, digests []listdb.Digest) error {
	if w.done {
		return errWriterDone
	}
	return listdb.Buffer(&w.buf, digests, bufferEntries, func() error { return w.flush(ctx) })
}

// flush writes the buffer.
func (w *listWriter) flush(ctx context.Context) error {
	byBucket := map[uint32][]any{}
	for i := range w.buf {
		b := w.v.bucket(&w.buf[i])
		byBucket[b] = append(byBucket[b], field(&w.buf[i]), "")
	}
	w.buf = w.buf[:0]
	var cmds []*redis.IntCmd
	p := w.s.c.Pipeline()
	for b, fv := range byBucket {
		cmds = append(cmds, p.HSet(ctx, w.s.keys.listBucket(w.list, w.v, b), fv...))
		if p.Len() == keysPerPipeline {
			if _, err := p.Exec(ctx); err != nil {
				return fmt.Errorf("redisstore: list %s: version %d: %w", w.list, w.v.id, err)
			}
		}
	}
	if _, err := p.Exec(ctx); err != nil {
		return fmt.Errorf("redisstore: list %s: version %d: %w", w.list, w.v.id, err)
	}
	for _, c := range cmds {
		w.entries += c.Val()
	}
	return nil
}

// Commit marks every bucket as whole, then switches in one script and
// deletes the replaced versions beyond those the list keeps.
func (w *listWriter) Commit(ctx context.Context, v listdb.Version) (listdb.Version, error) {
	if w.done {
		return v, errWriterDone
	}
	if err := w.flush(ctx); err != nil {
		return v, err
	}
	v.ID = strconv.FormatInt(w.v.id, 10)
	v.Entries = w.entries
	if err := w.markBuckets(ctx); err != nil {
		return v, fmt.Errorf("redisstore: list %s: committing version %d: %w", w.list, w.v.id, err)
	}
	stored := v
	stored.ID = ""
	info, err := json.Marshal(stored)
	if err != nil {
		return v, err
	}
	m, _, err := w.s.List(ctx, w.list)
	if err != nil {
		return v, fmt.Errorf("redisstore: list %s: committing version %d: %w", w.list, w.v.id, err)
	}
	res, err := switchScript.Run(ctx, w.s.c, []string{w.s.keys.listMeta(w.list)}, w.v.id, w.v.String(), info, m.Keep()).Result()
	if err != nil {
		return v, fmt.Errorf("redisstore: list %s: committing version %d: %w", w.list, w.v.id, err)
	}
	w.done = true
	if n, ok := res.(int64); ok {
		// Dropped or superseded: whoever did it may have swept already.
		_ = w.s.deleteBuckets(ctx, w.list, w.v)
		if n == -1 {
			return v, notFound(w.list)
		}
		return v, fmt.Errorf("%w: list %s, version %d", listdb.ErrSuperseded, w.list, w.v.id)
	}
	old, _ := res.([]any)
	if err := w.s.sweep(ctx, w.list, old); err != nil {
		return v, fmt.Errorf("redisstore: list %s: committed, but deleting old versions: %w (the next import retries)", w.list, err)
	}
	return v, nil
}

// markBuckets writes the sentinel into every bucket, empty ones included.
func (w *listWriter) markBuckets(ctx context.Context) error {
	n := uint32(1) << w.v.bits
	for from := uint32(0); from < n; from += keysPerPipeline {
		_, err := w.s.c.Pipelined(ctx, func(p redis.Pipeliner) error {
			for b := from; b < min(n, from+keysPerPipeline); b++ {
				p.HSet(ctx, w.s.keys.listBucket(w.list, w.v, b), sentinel, "")
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
func (w *listWriter) Abort(ctx context.Context) error {
	if w.done {
		return errWriterDone
	}
	w.done = true
	w.buf = nil
	if err := w.s.deleteBuckets(ctx, w.list, w.v); err != nil {
		return fmt.Errorf("redisstore: list %s: aborting: %w", w.list, err)
	}
	if err := w.s.c.HDel(ctx, w.s.keys.listMeta(w.list), "p:"+strconv.FormatInt(w.v.id, 10)).Err(); err != nil {
		return fmt.Errorf("redisstore: list %s: aborting: %w", w.list, err)
	}
	return nil
}
