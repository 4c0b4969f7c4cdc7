package redisstore

// Dump and restore of every key under the store's prefix, for backups.
//
// Consistency: Redis has no snapshot a client can read across keys, so
// the dump reads keys in transactions (MULTI/EXEC), DUMP and PTTL of each
// key together, keys sorted by hash tag and a batch never splitting a
// tag: on one node a batch is one transaction, on a cluster each tag of
// several keys is one. Keys the store writes in one step share a tag (a user and
// the user index, a list's head and its manual entries), so each such
// group is read as of one instant. A list's or the contacts' entries are
// spread over many tags, so the heads (which version is in force) are
// read again at the end: when an import or rollback switched a version
// while the dump ran, Dump fails with ErrChanged and the backup is to be
// run again. An opt-out or a send counted during the dump may or may not
// be in it, as with any online copy.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/dncgate/dncgate/store"
)

// dumpBatch is about how many keys one transaction of a dump reads.
const dumpBatch = 256

// ErrChanged is Dump's error when a list or the contacts switched
// versions while it ran.
var ErrChanged = errors.New("a list or the contacts switched versions during the dump (an import or rollback ran); run it again")

// Dump calls emit with every key under the prefix; see the comment at
// the top of the file for what it guarantees.
func (s *Store) Dump(ctx context.Context, emit func(store.DumpedKey) error) error {
	names, err := s.scanKeys(ctx)
	if err != nil {
		return err
	}
	slices.SortFunc(names, func(a, b string) int {
		if c := strings.Compare(hashTag(a), hashTag(b)); c != 0 {
			return c
		}
		return strings.Compare(a, b)
	})
	heads := map[string][]byte{}
	for len(names) > 0 {
		n := batchEnd(names, dumpBatch)
		keys, err := s.dumpBatch(ctx, names[:n])
		if err != nil {
			return err
		}
		for _, k := range keys {
			if s.isHead(k.Key) {
				heads[k.Key] = k.Value
			}
			if err := emit(k); err != nil {
				return err
			}
		}
		names = names[n:]
	}
	return s.checkHeads(ctx, heads)
}

// batchEnd is where a batch of about size keys ends without splitting a
// hash tag.
func batchEnd(names []string, size int) int {
	n := min(size, len(names))
	for n < len(names) && hashTag(names[n]) == hashTag(names[n-1]) {
		n++
	}
	return n
}

func (s *Store) dumpBatch(ctx context.Context, names []string) ([]store.DumpedKey, error) {
	dumps := make([]*redis.StringCmd, len(names))
	ttls := make([]*redis.DurationCmd, len(names))
	queue := func(p redis.Pipeliner, from, to int) {
		for i := from; i < to; i++ {
			dumps[i] = p.Dump(ctx, names[i])
			ttls[i] = p.PTTL(ctx, names[i])
		}
	}
	if err := s.readBatch(ctx, names, queue); err != nil && !errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("redisstore: dump: %w", err)
	}
	now := time.Now()
	out := make([]store.DumpedKey, 0, len(names))
	for i, n := range names {
		v, err := dumps[i].Bytes()
		if errors.Is(err, redis.Nil) {
			continue // deleted or expired since the scan
		}
		if err != nil {
			return nil, fmt.Errorf("redisstore: dump %s: %w", n, err)
		}
		k := store.DumpedKey{Key: strings.TrimPrefix(n, s.keys.prefix), Value: v}
		k.Kind = KeyKind(k.Key)
		if ttl := ttls[i].Val(); ttl > 0 {
			k.ExpireAt = now.Add(ttl)
		}
		out = append(out, k)
	}
	return out, nil
}

// readBatch runs the reads queue adds for names: on one node in one
// transaction; on a cluster in one transaction per hash tag of several
// keys (a transaction cannot span slots), the keys alone in their tag
// in one plain pipeline.
func (s *Store) readBatch(ctx context.Context, names []string, queue func(p redis.Pipeliner, from, to int)) error {
	if _, ok := s.c.(*redis.ClusterClient); !ok {
		_, err := s.c.TxPipelined(ctx, func(p redis.Pipeliner) error { queue(p, 0, len(names)); return nil })
		return err
	}
	var singles []int
	for i := 0; i < len(names); {
		j := i + 1
		for j < len(names) && hashTag(names[j]) == hashTag(names[i]) {
			j++
		}
		if j-i == 1 {
			singles = append(singles, i)
		} else if _, err := s.c.TxPipelined(ctx, func(p redis.Pipeliner) error { queue(p, i, j); return nil }); err != nil && !errors.Is(err, redis.Nil) {
			return err
		}
		i = j
	}
	_, err := s.c.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, i := range singles {
			queue(p, i, i+1)
		}
		return nil
	})
	return err
}

// isHead reports whether key (without prefix) says which version of a
// list or of the contacts is in force.
func (s *Store) isHead(key string) bool {
	full := s.keys.prefix + key
	return full == s.keys.contactHead() || strings.HasPrefix(full, s.keys.listMeta(""))
}

// checkHeads reads the heads again and fails when one changed.
func (s *Store) checkHeads(ctx context.Context, heads map[string][]byte) error {
	for k, v := range heads {
		now, err := s.c.Dump(ctx, s.keys.prefix+k).Bytes()
		if err != nil && !errors.Is(err, redis.Nil) {
			return fmt.Errorf("redisstore: dump: %w", err)
		}
		if !bytes.Equal(now, v) {
			return ErrChanged
		}
	}
	return nil
}

// hashTag is the part of a key Redis Cluster hashes: the text between the
// first '{' and the next '}' when not empty, else the whole key.
func hashTag(key string) string {
	i := strings.IndexByte(key, '{')
	if i < 0 {
		return key
	}
	j := strings.IndexByte(key[i+1:], '}')
	if j <= 0 {
		return key
	}
	return key[i+1 : i+1+j]
}

// scanKeys lists every key under the prefix, on every master of a cluster.
func (s *Store) scanKeys(ctx context.Context) ([]string, error) {
	var (
		mu    sync.Mutex
		names []string
	)
	err := s.eachNode(ctx, func(ctx context.Context, c *redis.Client) error {
		it := c.Scan(ctx, 0, escapeGlob(s.keys.prefix)+"*", 1000).Iterator()
		var mine []string
		for it.Next(ctx) {
			mine = append(mine, it.Val())
		}
		if err := it.Err(); err != nil {
			return err
		}
		mu.Lock()
		names = append(names, mine...)
		mu.Unlock()
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("redisstore: scan: %w", err)
	}
	return names, nil
}

// eachNode runs f on the one node, or on every master of a cluster (at
// the same time).
func (s *Store) eachNode(ctx context.Context, f func(context.Context, *redis.Client) error) error {
	switch c := s.c.(type) {
	case *redis.ClusterClient:
		return c.ForEachMaster(ctx, f)
	case *redis.Client:
		return f(ctx, c)
	}
	return fmt.Errorf("redisstore: unexpected client %T", s.c)
}

// escapeGlob quotes the characters SCAN's MATCH pattern gives a meaning.
func escapeGlob(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(`*?[]\`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Empty reports whether no key lies under the prefix.
func (s *Store) Empty(ctx context.Context) (bool, error) {
	names, err := s.scanKeys(ctx)
	return len(names) == 0, err
}

// Restore replaces every key under the prefix with the keys next returns
// (io.EOF after the last). What it guarantees: the identity record is
// deleted first and written last, so while Restore runs, and after a
// restore that failed half way, the store has no identity and every
// gateway guarding it answers 451 and sends nothing; running Restore
// again completes it. Keys whose expiry has passed are left out; the
// others keep their expiry time (RESTORE … ABSTTL). n counts the keys
// written.
func (s *Store) Restore(ctx context.Context, next func() (store.DumpedKey, error)) (n int, err error) {
	if err := s.c.Del(ctx, s.keys.identity()).Err(); err != nil {
		return 0, fmt.Errorf("redisstore: restore: %w", err)
	}
	if err := s.deleteAll(ctx); err != nil {
		return 0, err
	}
	var identity *store.DumpedKey
	batch := make([]store.DumpedKey, 0, dumpBatch)
	now := time.Now()
	for {
		k, err := next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return n, err
		}
		switch {
		case s.keys.prefix+k.Key == s.keys.identity():
			identity = &k
			continue
		case !k.ExpireAt.IsZero() && !k.ExpireAt.After(now):
			continue
		}
		if batch = append(batch, k); len(batch) == dumpBatch {
			if err := s.restoreBatch(ctx, batch); err != nil {
				return n, err
			}
			n, batch = n+len(batch), batch[:0]
		}
	}
	if err := s.restoreBatch(ctx, batch); err != nil {
		return n, err
	}
	n += len(batch)
	if identity == nil {
		return n, errors.New("redisstore: restore: the dump holds no identity record")
	}
	if err := s.restoreBatch(ctx, []store.DumpedKey{*identity}); err != nil {
		return n, err
	}
	return n + 1, nil
}

func (s *Store) restoreBatch(ctx context.Context, keys []store.DumpedKey) error {
	if len(keys) == 0 {
		return nil
	}
	cmds := make([]*redis.Cmd, len(keys))
	_, err := s.c.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, k := range keys {
			args := []any{"RESTORE", s.keys.prefix + k.Key, "0", k.Value, "REPLACE"}
			if !k.ExpireAt.IsZero() {
				args = []any{"RESTORE", s.keys.prefix + k.Key, strconv.FormatInt(k.ExpireAt.UnixMilli(), 10), k.Value, "REPLACE", "ABSTTL"}
			}
			cmds[i] = p.Do(ctx, args...)
		}
		return nil
	})
	for i, c := range cmds {
		if c.Err() != nil {
			return fmt.Errorf("redisstore: restore %s: %w", keys[i].Key, c.Err())
		}
	}
	if err != nil {
		return fmt.Errorf("redisstore: restore: %w", err)
	}
	return nil
}

// deleteAll deletes every key under the prefix, one UNLINK a key so that
// a cluster takes each to its slot.
func (s *Store) deleteAll(ctx context.Context) error {
	names, err := s.scanKeys(ctx)
	if err != nil {
		return err
	}
	for len(names) > 0 {
		n := min(keysPerPipeline, len(names))
		_, err := s.c.Pipelined(ctx, func(p redis.Pipeliner) error {
			for _, k := range names[:n] {
				p.Unlink(ctx, k)
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("redisstore: restore: deleting the old keys: %w", err)
		}
		names = names[n:]
	}
	return nil
}
