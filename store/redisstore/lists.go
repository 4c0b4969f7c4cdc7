package redisstore

// Suppression lists. Key layout, beside the package comment's:
//
//	lists                      set of list names (the index)
//	list:{NAME}                hash: meta (JSON), x, cur ("VID:BITS"),
//	                           ver (JSON of the current version), seq,
//	                           p:VID = BITS for imports running,
//	                           d:VID = BITS for versions being deleted,
//	                           k:VID = BITS and i:VID = JSON of the
//	                           version for versions kept for Rollback
//	le:{NAME:VID:BUCKET}       hash: one version's entries in one bucket
//	lm:{NAME}                  hash: digest → 1 added by hand, 0 removed
//	ml:{NAME}                  list: JSON records of the decisions by
//	                           hand, newest first
//
// The list's hash, its manual entries and their records share the tag
// {NAME}, hence one slot: a lookup reads the first two from one node
// (lookup.go), and one script writes a decision with its record.
//
// A digest's first BITS bits choose its bucket; the field is the digest's
// bytes 4 to 11, the value empty. Redis keeps a hash of up to
// hash-max-listpack-entries (128 by default) short fields as one listpack,
// about 12 bytes an entry, where a set of 16-byte strings takes about 72;
// BITS is chosen per version so that buckets average at most 64 entries.
// So a lookup compares BITS+64 bits of the digest: two distinct digests
// of a list of n entries match by accident with probability under
// n/2^68, nothing next to the keyed hash's own.
//
// Each bucket also holds the empty field, written at Commit: a bucket
// without it belongs to a version deleted after a switch, and a reader that
// read the old current id just before the switch starts again rather than
// answer from a half-deleted set. The switch itself is one script on the
// list's hash, so it is atomic also in a cluster, where buckets spread
// over every slot.

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math/bits"
	"slices"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/dncgate/dncgate/listdb"
)

const (
	// bucketFill is the most entries a bucket is sized for on average
	// (the bucket count being a power of two, the average lies between
	// half of it and it). Each bucket key costs some 70 bytes of its own,
	// so fuller buckets cost less per entry; at an average of 96 a random
	// spread puts more than the default hash-max-listpack-entries (128)
	// in about one bucket in 2,000, which Redis then keeps as a plain hash:
	// a few hundred bytes more per such bucket, still correct.
	bucketFill = 96
	// minBucketBits and maxBucketBits bound the bucket count: 16 keys for
	// a small list, a million for 64 million entries.
	minBucketBits = 4
	maxBucketBits = 20
	// fieldFrom and fieldTo are the digest bytes stored as the field; the
	// bucket comes from the bytes before them.
	fieldFrom, fieldTo = 4, 12
	// sentinel is the field every bucket of a committed version holds.
	sentinel = ""
	// keysPerPipeline bounds one pipeline of bucket writes or deletions.
	keysPerPipeline = 4096
)

var (
	_ listdb.Store         = (*Store)(nil)
	_ listdb.ManualCounter = (*Store)(nil)
)

func (k keys) listIndex() string             { return k.prefix + "lists" }
func (k keys) listMeta(name string) string   { return k.prefix + "list:{" + name + "}" }
func (k keys) listManual(name string) string { return k.prefix + "lm:{" + name + "}" }
func (k keys) listManualLog(name string) string {
	return k.prefix + "ml:{" + name + "}"
}
func (k keys) listBucket(name string, v version, b uint32) string {
	return fmt.Sprintf("%sle:{%s:%d:%x}", k.prefix, name, v.id, b)
}

// version names one version's buckets.
type version struct {
	id   int64
	bits int
}

func (v version) String() string { return fmt.Sprintf("%d:%d", v.id, v.bits) }

func parseVersion(s string) (version, error) {
	id, b, ok := strings.Cut(s, ":")
	var v version
	var err1, err2 error
	v.id, err1 = strconv.ParseInt(id, 10, 64)
	v.bits, err2 = strconv.Atoi(b)
	if !ok || err1 != nil || err2 != nil || v.bits < 0 || v.bits > maxBucketBits {
		return v, fmt.Errorf("malformed stored version %q", s)
	}
	return v, nil
}

// bucket is the bucket of d in v.
func (v version) bucket(d *listdb.Digest) uint32 {
	return binary.BigEndian.Uint32(d[:4]) >> (32 - v.bits)
}

func field(d *listdb.Digest) string { return string(d[fieldFrom:fieldTo]) }

// bucketBits sizes a version of n entries.
func bucketBits(n int64) int {
	b := bits.Len64(uint64(max(n-1, 0) / bucketFill))
	return min(max(b, minBucketBits), maxBucketBits)
}

func notFound(name string) error { return fmt.Errorf("%w: %s", listdb.ErrNotFound, name) }

// PutList writes the description, then adds the name to the index.
func (s *Store) PutList(ctx context.Context, m listdb.Meta) error {
	if err := listdb.CheckName(m.Name); err != nil {
		return err
	}
	meta, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("redisstore: list %s: %w", m.Name, err)
	}
	if err := s.c.HSet(ctx, s.keys.listMeta(m.Name), "meta", meta, "x", "1").Err(); err != nil {
		return fmt.Errorf("redisstore: put list %s: %w", m.Name, err)
	}
	if err := s.c.SAdd(ctx, s.keys.listIndex(), m.Name).Err(); err != nil {
		return fmt.Errorf("redisstore: put list %s: index: %w", m.Name, err)
	}
	return nil
}

// List reads the list's hash.
func (s *Store) List(ctx context.Context, name string) (listdb.Meta, listdb.Version, error) {
	vals, err := s.c.HMGet(ctx, s.keys.listMeta(name), "meta", "cur", "ver").Result()
	if err != nil {
		return listdb.Meta{}, listdb.Version{}, fmt.Errorf("redisstore: list %s: %w", name, err)
	}
	info, err := decodeInfo(vals)
	if errors.Is(err, listdb.ErrNotFound) {
		return listdb.Meta{}, listdb.Version{}, notFound(name)
	}
	if err != nil {
		return listdb.Meta{}, listdb.Version{}, fmt.Errorf("redisstore: list %s: %w", name, err)
	}
	return info.Meta, info.Current, nil
}

// decodeInfo reads HMGET meta cur ver.
func decodeInfo(vals []any) (listdb.Info, error) {
	var info listdb.Info
	meta, ok := vals[0].(string)
	if !ok {
		return info, listdb.ErrNotFound
	}
	if err := json.Unmarshal([]byte(meta), &info.Meta); err != nil {
		return info, fmt.Errorf("stored description: %w", err)
	}
	cur, ok1 := vals[1].(string)
	ver, ok2 := vals[2].(string)
	if !ok1 || !ok2 {
		return info, nil
	}
	v, err := parseVersion(cur)
	if err != nil {
		return info, err
	}
	if err := json.Unmarshal([]byte(ver), &info.Current); err != nil {
		return info, fmt.Errorf("stored version %d: %w", v.id, err)
	}
	info.Current.ID = strconv.FormatInt(v.id, 10)
	return info, nil
}

// Lists reads the index, then every list's hash in one pipeline, with the
// identity guard's read.
func (s *Store) Lists(ctx context.Context) ([]listdb.Info, error) {
	names, err := s.c.SMembers(ctx, s.keys.listIndex()).Result()
	if err != nil {
		return nil, fmt.Errorf("redisstore: lists: %w", err)
	}
	slices.Sort(names)
	cmds := make([]*redis.SliceCmd, len(names))
	var guard *redis.SliceCmd
	_, err = s.c.Pipelined(ctx, func(p redis.Pipeliner) error {
		guard = s.queueGuard(ctx, p)
		for i, n := range names {
			cmds[i] = p.HMGet(ctx, s.keys.listMeta(n), "meta", "cur", "ver")
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("redisstore: lists: %w", err)
	}
	// The guard was read after the index: a store emptied in between
	// is caught here rather than taken for one without lists.
	if err := s.checkGuard(guard); err != nil {
		return nil, err
	}
	out := make([]listdb.Info, 0, len(names))
	for i, c := range cmds {
		info, err := decodeInfo(c.Val())
		if errors.Is(err, listdb.ErrNotFound) {
			continue // dropped between the two reads
		}
		if err != nil {
			return nil, fmt.Errorf("redisstore: list %s: %w", names[i], err)
		}
		out = append(out, info)
	}
	return out, nil
}

// dropScript deletes a list's hash and returns every version it knew of,
// so that their buckets can go after it.
var dropScript = redis.NewScript(`
if redis.call('HEXISTS', KEYS[1], 'x') == 0 then return -1 end
local out = {}
local all = redis.call('HGETALL', KEYS[1])
for i = 1, #all, 2 do
	local f = all[i]
	local kind = string.sub(f, 1, 2)
	if f == 'cur' then table.insert(out, all[i+1])
	elseif kind == 'p:' or kind == 'd:' or kind == 'k:' then table.insert(out, string.sub(f, 3) .. ':' .. all[i+1]) end
end
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3])
return out
`)

// DropList deletes the list's hash, which makes it gone for readers at
// once, then its name in the index and its buckets.
func (s *Store) DropList(ctx context.Context, name string) error {
	res, err := dropScript.Run(ctx, s.c, []string{s.keys.listMeta(name), s.keys.listManual(name), s.keys.listManualLog(name)}).Result()
	if err != nil {
		return fmt.Errorf("redisstore: drop list %s: %w", name, err)
	}
	if n, ok := res.(int64); ok && n == -1 {
		return notFound(name)
	}
	if err := s.c.SRem(ctx, s.keys.listIndex(), name).Err(); err != nil {
		return fmt.Errorf("redisstore: drop list %s: index: %w", name, err)
	}
	if err := s.deleteVersions(ctx, name, res); err != nil {
		return fmt.Errorf("redisstore: drop list %s: %w", name, err)
	}
	return nil
}

// deleteVersions deletes the buckets of versions given as "VID:BITS".
func (s *Store) deleteVersions(ctx context.Context, name string, list any) error {
	items, _ := list.([]any)
	for _, it := range items {
		str, _ := it.(string)
		v, err := parseVersion(str)
		if err != nil {
			return err
		}
		if err := s.deleteBuckets(ctx, name, v); err != nil {
			return err
		}
	}
	return nil
}

// deleteBuckets unlinks every bucket of v, one command per key: in a
// cluster the buckets are in different slots.
func (s *Store) deleteBuckets(ctx context.Context, name string, v version) error {
	n := uint32(1) << v.bits
	for from := uint32(0); from < n; from += keysPerPipeline {
		_, err := s.c.Pipelined(ctx, func(p redis.Pipeliner) error {
			for b := from; b < min(n, from+keysPerPipeline); b++ {
				p.Unlink(ctx, s.keys.listBucket(name, v, b))
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("deleting version %d: %w", v.id, err)
		}
	}
	return nil
}

// setEntryScript records a manual decision if the list exists.
var setEntryScript = redis.NewScript(`
if redis.call('HEXISTS', KEYS[1], 'x') == 0 then return -1 end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
return 0
`)

// AddEntry records d as on the list, whatever the imports say.
func (s *Store) AddEntry(ctx context.Context, name string, d listdb.Digest) error {
	return s.setEntry(ctx, name, d, "1")
}

// RemoveEntry records d as off the list, whatever the imports say.
func (s *Store) RemoveEntry(ctx context.Context, name string, d listdb.Digest) error {
	return s.setEntry(ctx, name, d, "0")
}

// Manual counts the list's entries added and removed by hand. Both keys
// share the list's hash tag, so one script reads them on a cluster too.
func (s *Store) Manual(ctx context.Context, name string) (listdb.Manual, error) {
	res, err := manualScript.Run(ctx, s.c, []string{s.keys.listMeta(name), s.keys.listManual(name)}).Int64Slice()
	if err != nil {
		return listdb.Manual{}, fmt.Errorf("redisstore: list %s: manual entries: %w", name, err)
	}
	if res[0] == -1 {
		return listdb.Manual{}, notFound(name)
	}
	return listdb.Manual{Added: res[0], Removed: res[1]}, nil
}

// manualScript returns {added, removed} of KEYS[2], or {-1, 0} when the
// list KEYS[1] does not exist.
var manualScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return {-1, 0} end
local added, removed = 0, 0
for _, v in ipairs(redis.call('HVALS', KEYS[2])) do
  if v == '1' then added = added + 1 else removed = removed + 1 end
end
return {added, removed}
`)

func (s *Store) setEntry(ctx context.Context, name string, d listdb.Digest, present string) error {
	n, err := setEntryScript.Run(ctx, s.c, []string{s.keys.listMeta(name), s.keys.listManual(name)},
		string(d[:]), present).Int64()
	if err != nil {
		return fmt.Errorf("redisstore: list %s: manual entry: %w", name, err)
	}
	if n == -1 {
		return notFound(name)
	}
	return nil
}
