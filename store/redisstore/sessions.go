package redisstore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/dncgate/dncgate/store"
)

// The console's keys carry the {users} tag, like the users: a user's
// sessions, their index and their second factor live in one slot, so a
// script or a transaction changes them together on a cluster too.
func (k keys) session(id string) string         { return k.prefix + "sess:{users}:" + id }
func (k keys) sessionsOf(email string) string   { return k.prefix + "sessof:{users}:" + email }
func (k keys) secondFactor(email string) string { return k.prefix + "tf:{users}:" + email }
func (k keys) recovery(email string) string     { return k.prefix + "rc:{users}:" + email }

// createSessionScript: KEYS[1] the session, KEYS[2] its user's index;
// ARGV user, pending, csrf, created, seen, ttl (ms), id.
var createSessionScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'user', ARGV[1], 'pending', ARGV[2], 'csrf', ARGV[3], 'created', ARGV[4], 'seen', ARGV[5])
redis.call('PEXPIRE', KEYS[1], ARGV[6])
redis.call('SADD', KEYS[2], ARGV[7])
return 1`)

// touchSessionScript: KEYS[1] the session; ARGV seen, ttl (ms).
var touchSessionScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'seen', ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1`)

// dropSessionsScript: KEYS[1] the index, KEYS[2..] sessions named in it;
// ARGV their ids. Deletes the sessions, takes them out of the index and
// returns how many were alive.
var dropSessionsScript = redis.NewScript(`
local n = 0
for i = 2, #KEYS do
	n = n + redis.call('DEL', KEYS[i])
	redis.call('SREM', KEYS[1], ARGV[i - 1])
end
return n`)

// CreateSession stores the session with its TTL and indexes it under its
// user, after pruning the index of sessions that expired.
func (s *Store) CreateSession(ctx context.Context, se store.Session, ttl time.Duration) error {
	if ttl <= 0 {
		return errBadTTL
	}
	user := normEmail(se.User)
	if user == "" {
		return errEmptyEmail
	}
	if _, err := s.dropSessions(ctx, user, true); err != nil {
		return err
	}
	keys := []string{s.keys.session(se.ID), s.keys.sessionsOf(user)}
	done, err := createSessionScript.Run(ctx, s.c, keys, user, se.Pending, se.CSRF,
		nanosText(se.CreatedAt), nanosText(se.SeenAt), ttl.Milliseconds(), se.ID).Int()
	if err != nil {
		return fmt.Errorf("redisstore: create session: %w", err)
	}
	if done == 0 {
		return store.ErrExists
	}
	return nil
}

// Session reads a live session: one HGETALL.
func (s *Store) Session(ctx context.Context, id string) (store.Session, error) {
	h, err := s.c.HGetAll(ctx, s.keys.session(id)).Result()
	if err != nil {
		return store.Session{}, fmt.Errorf("redisstore: session: %w", err)
	}
	if len(h) == 0 {
		return store.Session{}, store.ErrNotFound
	}
	se := store.Session{ID: id, User: h["user"], Pending: h["pending"], CSRF: h["csrf"]}
	if se.CreatedAt, err = parseNanos(h["created"]); err != nil {
		return store.Session{}, fmt.Errorf("redisstore: session: created: %w", err)
	}
	if se.SeenAt, err = parseNanos(h["seen"]); err != nil {
		return store.Session{}, fmt.Errorf("redisstore: session: seen: %w", err)
	}
	return se, nil
}

// TouchSession sets seen and the new TTL in one script.
func (s *Store) TouchSession(ctx context.Context, id string, seen time.Time, ttl time.Duration) error {
	if ttl <= 0 {
		return errBadTTL
	}
	done, err := touchSessionScript.Run(ctx, s.c, []string{s.keys.session(id)}, nanosText(seen), ttl.Milliseconds()).Int()
	if err != nil {
		return fmt.Errorf("redisstore: touch session: %w", err)
	}
	if done == 0 {
		return store.ErrNotFound
	}
	return nil
}

// DeleteSession removes the session; its index entry goes at the next
// prune.
func (s *Store) DeleteSession(ctx context.Context, id string) error {
	if err := s.c.Del(ctx, s.keys.session(id)).Err(); err != nil {
		return fmt.Errorf("redisstore: delete session: %w", err)
	}
	return nil
}

// DeleteUserSessions removes every session in the user's index.
func (s *Store) DeleteUserSessions(ctx context.Context, user string) (int, error) {
	return s.dropSessions(ctx, normEmail(user), false)
}

// dropSessions deletes the user's sessions (only the expired ones, to
// prune the index) and says how many live ones went.
func (s *Store) dropSessions(ctx context.Context, user string, expiredOnly bool) (int, error) {
	index := s.keys.sessionsOf(user)
	ids, err := s.c.SMembers(ctx, index).Result()
	if err != nil {
		return 0, fmt.Errorf("redisstore: sessions of a user: %w", err)
	}
	if expiredOnly {
		ids, err = s.expiredSessions(ctx, ids)
		if err != nil {
			return 0, err
		}
	}
	if len(ids) == 0 {
		return 0, nil
	}
	slices.Sort(ids)
	keys := []string{index}
	args := make([]any, len(ids))
	for i, id := range ids {
		keys, args[i] = append(keys, s.keys.session(id)), id
	}
	n, err := dropSessionsScript.Run(ctx, s.c, keys, args...).Int()
	if err != nil {
		return 0, fmt.Errorf("redisstore: delete sessions: %w", err)
	}
	return n, nil
}

// expiredSessions are the ids whose session key is gone.
func (s *Store) expiredSessions(ctx context.Context, ids []string) ([]string, error) {
	cmds := make([]*redis.IntCmd, len(ids))
	_, err := s.c.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, id := range ids {
			cmds[i] = p.Exists(ctx, s.keys.session(id))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("redisstore: sessions of a user: %w", err)
	}
	var gone []string
	for i, c := range cmds {
		if c.Val() == 0 {
			gone = append(gone, ids[i])
		}
	}
	return gone, nil
}

// SecondFactor reads the secret and the recovery codes in one pipeline.
func (s *Store) SecondFactor(ctx context.Context, email string) (store.SecondFactor, error) {
	email = normEmail(email)
	var h *redis.MapStringStringCmd
	var rc *redis.StringSliceCmd
	_, err := s.c.Pipelined(ctx, func(p redis.Pipeliner) error {
		h = p.HGetAll(ctx, s.keys.secondFactor(email))
		rc = p.SMembers(ctx, s.keys.recovery(email))
		return nil
	})
	if err != nil {
		return store.SecondFactor{}, fmt.Errorf("redisstore: second factor: %w", err)
	}
	if len(h.Val()) == 0 {
		return store.SecondFactor{}, store.ErrNotFound
	}
	f := store.SecondFactor{Secret: h.Val()["secret"], Recovery: rc.Val()}
	if len(f.Recovery) == 0 {
		f.Recovery = nil
	}
	slices.Sort(f.Recovery)
	if f.EnrolledAt, err = parseNanos(h.Val()["enrolled"]); err != nil {
		return store.SecondFactor{}, fmt.Errorf("redisstore: second factor: enrolled: %w", err)
	}
	return f, nil
}

// SetSecondFactor replaces both keys in one MULTI (one slot).
func (s *Store) SetSecondFactor(ctx context.Context, email string, f store.SecondFactor) error {
	email = normEmail(email)
	if f.Secret == "" {
		return errors.New("redisstore: a second factor needs a secret")
	}
	_, err := s.c.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Del(ctx, s.keys.secondFactor(email), s.keys.recovery(email))
		p.HSet(ctx, s.keys.secondFactor(email), "secret", f.Secret, "enrolled", nanosText(f.EnrolledAt))
		if len(f.Recovery) > 0 {
			members := make([]any, len(f.Recovery))
			for i, d := range f.Recovery {
				members[i] = d
			}
			p.SAdd(ctx, s.keys.recovery(email), members...)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("redisstore: set second factor: %w", err)
	}
	return nil
}

// DeleteSecondFactor removes both keys.
func (s *Store) DeleteSecondFactor(ctx context.Context, email string) error {
	email = normEmail(email)
	if err := s.c.Del(ctx, s.keys.secondFactor(email), s.keys.recovery(email)).Err(); err != nil {
		return fmt.Errorf("redisstore: delete second factor: %w", err)
	}
	return nil
}

// UseRecoveryCode is one SREM: of two uses at once, one removes the code.
func (s *Store) UseRecoveryCode(ctx context.Context, email, digest string) (bool, error) {
	n, err := s.c.SRem(ctx, s.keys.recovery(normEmail(email)), digest).Result()
	if err != nil {
		return false, fmt.Errorf("redisstore: use recovery code: %w", err)
	}
	return n == 1, nil
}

func nanosText(t time.Time) string { return strconv.FormatInt(t.UnixNano(), 10) }
