package redisstore

// The identity record (store.Identity) is one hash:
//
//	identity:{opt-out}   hash: id, created (Unix ns), key, links ("1")
//
// Its tag is the opt-out list's, which every recipient check reads: in a
// cluster the guard's read goes to the node the check's pipeline visits
// anyway (lookup.go), so it costs no round trip of its own.

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/dncgate/dncgate/store"
)

func (k keys) identity() string { return k.prefix + "identity:{opt-out}" }

var (
	createIdentityScript = redis.NewScript(`
if ARGV[5] ~= '1' and redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'id', ARGV[1], 'created', ARGV[2], 'key', ARGV[3])
if ARGV[4] == '1' then redis.call('HSET', KEYS[1], 'links', '1') end
return 1`)
	markLinksScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'links', '1')
return 1`)
)

// Identity reads the record.
func (s *Store) Identity(ctx context.Context) (store.Identity, error) {
	m, err := s.c.HGetAll(ctx, s.keys.identity()).Result()
	if err != nil {
		return store.Identity{}, fmt.Errorf("redisstore: identity: %w", err)
	}
	if m["id"] == "" {
		return store.Identity{}, store.ErrNoIdentity
	}
	ns, err := strconv.ParseInt(m["created"], 10, 64)
	if err != nil {
		return store.Identity{}, fmt.Errorf("redisstore: identity: malformed creation time %q", m["created"])
	}
	return store.Identity{ID: m["id"], CreatedAt: time.Unix(0, ns).UTC(), KeyFingerprint: m["key"], LinksSent: m["links"] == "1"}, nil
}

// CreateIdentity writes the record in one script, so that two processes
// creating the store at once cannot both succeed.
func (s *Store) CreateIdentity(ctx context.Context, id store.Identity, replace bool) error {
	if id.ID == "" {
		return errors.New("redisstore: an identity needs an id")
	}
	n, err := createIdentityScript.Run(ctx, s.c, []string{s.keys.identity()},
		id.ID, id.CreatedAt.UnixNano(), id.KeyFingerprint, flag(id.LinksSent), flag(replace)).Int()
	if err != nil {
		return fmt.Errorf("redisstore: create identity: %w", err)
	}
	if n == 0 {
		return store.ErrExists
	}
	return nil
}

// MarkLinksSent sets the record's links field.
func (s *Store) MarkLinksSent(ctx context.Context) error {
	n, err := markLinksScript.Run(ctx, s.c, []string{s.keys.identity()}).Int()
	if err != nil {
		return fmt.Errorf("redisstore: identity: %w", err)
	}
	if n == 0 {
		return store.ErrNoIdentity
	}
	return nil
}

// Guard sets the id that list reads expect.
func (s *Store) Guard(id string) { s.guard.Store(&id) }

// guarded is the id list reads expect, "" when unguarded.
func (s *Store) guarded() string {
	if p := s.guard.Load(); p != nil {
		return *p
	}
	return ""
}

// queueGuard adds the guard's read to a pipeline; nil when unguarded.
func (s *Store) queueGuard(ctx context.Context, p redis.Pipeliner) *redis.SliceCmd {
	if s.guarded() == "" {
		return nil
	}
	return p.HMGet(ctx, s.keys.identity(), "id")
}

// checkGuard compares the guard's read with the expected id.
func (s *Store) checkGuard(c *redis.SliceCmd) error {
	if c == nil {
		return nil
	}
	got, _ := c.Val()[0].(string)
	return store.CheckGuard(s.guarded(), got)
}

func flag(b bool) string {
	if b {
		return "1"
	}
	return "0"
}
