package redisstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/dncgate/dncgate/listdb"
)

// luaTrimKept defines trimKept(key, keep): it marks the kept versions of
// the list hash key beyond the keep newest as to delete, dropping their
// kept fields, and returns them as "VID:BITS".
const luaTrimKept = `
local function trimKept(key, keep)
	local ids = {}
	local all = redis.call('HGETALL', key)
	for i = 1, #all, 2 do
		if string.sub(all[i], 1, 2) == 'k:' then table.insert(ids, {tonumber(string.sub(all[i], 3)), string.sub(all[i], 3), all[i+1]}) end
	end
	table.sort(ids, function(a, b) return a[1] > b[1] end)
	local out = {}
	for i = keep + 1, #ids do
		local id, bits = ids[i][2], ids[i][3]
		redis.call('HDEL', key, 'k:' .. id, 'i:' .. id)
		redis.call('HSET', key, 'd:' .. id, bits)
		table.insert(out, id .. ':' .. bits)
	end
	return out
end
`

// rollbackScript switches the list to kept version ARGV[2] if the version
// in force is still ARGV[1] ("VID:BITS"), storing ARGV[3] as its JSON, and
// keeps the one it replaces: one step on the list's hash, as switchScript.
// It returns the new current "VID:BITS", -1 when the list is gone, -2
// when the version in force changed, -3 when ARGV[2] is no longer kept.
var rollbackScript = redis.NewScript(`
if redis.call('HEXISTS', KEYS[1], 'x') == 0 then return -1 end
local cur = redis.call('HGET', KEYS[1], 'cur')
if cur ~= ARGV[1] then return -2 end
local bits = redis.call('HGET', KEYS[1], 'k:' .. ARGV[2])
if not bits then return -3 end
local oldver = redis.call('HGET', KEYS[1], 'ver')
local oid, obits = string.match(cur, '^(%d+):(%d+)$')
redis.call('HDEL', KEYS[1], 'k:' .. ARGV[2], 'i:' .. ARGV[2])
redis.call('HSET', KEYS[1], 'cur', ARGV[2] .. ':' .. bits, 'ver', ARGV[3], 'k:' .. oid, obits, 'i:' .. oid, oldver)
return ARGV[2] .. ':' .. bits
`)

// History reads the list's hash once: the version in force and the kept
// ones.
func (s *Store) History(ctx context.Context, name string) ([]listdb.VersionInfo, error) {
	h, _, err := s.history(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("redisstore: list %s: history: %w", name, err)
	}
	return h, nil
}

// history returns the versions, and the current one's "VID:BITS" ("" for
// none).
func (s *Store) history(ctx context.Context, name string) ([]listdb.VersionInfo, string, error) {
	all, err := s.c.HGetAll(ctx, s.keys.listMeta(name)).Result()
	if err != nil {
		return nil, "", err
	}
	if _, ok := all["x"]; !ok {
		return nil, "", notFound(name)
	}
	var out []listdb.VersionInfo
	add := func(id, info string, inForce bool) error {
		v := listdb.VersionInfo{InForce: inForce}
		if err := json.Unmarshal([]byte(info), &v.Version); err != nil {
			return fmt.Errorf("stored version %s: %w", id, err)
		}
		v.ID = id
		out = append(out, v)
		return nil
	}
	cur := all["cur"]
	if cur != "" {
		v, err := parseVersion(cur)
		if err != nil {
			return nil, "", err
		}
		if err := add(strconv.FormatInt(v.id, 10), all["ver"], true); err != nil {
			return nil, "", err
		}
	}
	for f := range all {
		if id, ok := strings.CutPrefix(f, "k:"); ok {
			if err := add(id, all["i:"+id], false); err != nil {
				return nil, "", err
			}
		}
	}
	listdb.SortHistory(out)
	return out, cur, nil
}

// Rollback picks the version from the history read, then switches in one
// script on the list's hash, which refuses if the list changed meanwhile;
// lookups see the switch as they see an import's (lookup.go): the kept
// version's buckets still hold their sentinels.
func (s *Store) Rollback(ctx context.Context, name, version, by string, now time.Time) (listdb.Switch, error) {
	sw := listdb.Switch{List: name}
	h, cur, err := s.history(ctx, name)
	if err == nil {
		sw.From, sw.To, err = listdb.RollbackTarget(name, h, version)
	}
	if err != nil {
		return sw, fmt.Errorf("redisstore: list %s: rollback: %w", name, err)
	}
	sw.To.RestoredAt, sw.To.RestoredBy = now.UTC(), by
	stored := sw.To
	stored.ID = ""
	info, err := json.Marshal(stored)
	if err != nil {
		return sw, err
	}
	res, err := rollbackScript.Run(ctx, s.c, []string{s.keys.listMeta(name)}, cur, sw.To.ID, info).Result()
	if err != nil {
		return sw, fmt.Errorf("redisstore: list %s: rollback: %w", name, err)
	}
	switch n, _ := res.(int64); n {
	case -1:
		return sw, notFound(name)
	case -2:
		return sw, fmt.Errorf("redisstore: list %s: rollback: %w", name, listdb.ErrChanged)
	case -3:
		return sw, fmt.Errorf("redisstore: list %s: rollback: %w: version %s was swept meanwhile", name, listdb.ErrNotKept, sw.To.ID)
	}
	return sw, nil
}

// ChangeEntry records the decision on d and appends its record to the
// list's log (ml:{NAME}, newest first), in one script: all three keys
// share the list's hash tag.
func (s *Store) ChangeEntry(ctx context.Context, name string, d listdb.Digest, c listdb.ManualChange) error {
	c.At = c.At.UTC()
	rec, err := json.Marshal(c)
	if err != nil {
		return fmt.Errorf("redisstore: list %s: manual record: %w", name, err)
	}
	present := "0"
	if c.Added {
		present = "1"
	}
	n, err := changeEntryScript.Run(ctx, s.c, []string{s.keys.listMeta(name), s.keys.listManual(name), s.keys.listManualLog(name)},
		string(d[:]), present, rec).Int64()
	if err != nil {
		return fmt.Errorf("redisstore: list %s: manual entry: %w", name, err)
	}
	if n == -1 {
		return notFound(name)
	}
	return nil
}

var changeEntryScript = redis.NewScript(`
if redis.call('HEXISTS', KEYS[1], 'x') == 0 then return -1 end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
redis.call('LPUSH', KEYS[3], ARGV[3])
return 0
`)

// ManualChanges reads the list's records, newest first.
func (s *Store) ManualChanges(ctx context.Context, name string, limit int) ([]listdb.ManualChange, error) {
	var exists *redis.BoolCmd
	var recs *redis.StringSliceCmd
	_, err := s.c.Pipelined(ctx, func(p redis.Pipeliner) error {
		exists = p.HExists(ctx, s.keys.listMeta(name), "x")
		recs = p.LRange(ctx, s.keys.listManualLog(name), 0, int64(limit)-1)
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("redisstore: list %s: manual records: %w", name, err)
	}
	if !exists.Val() {
		return nil, notFound(name)
	}
	out := make([]listdb.ManualChange, 0, len(recs.Val()))
	for _, r := range recs.Val() {
		var c listdb.ManualChange
		if err := json.Unmarshal([]byte(r), &c); err != nil {
			return nil, fmt.Errorf("redisstore: list %s: manual record: %w", name, err)
		}
		out = append(out, c)
	}
	return out, nil
}
