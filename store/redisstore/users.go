package redisstore

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/dncgate/dncgate/store"
)

// The user scripts take KEYS[1] = the user's hash, KEYS[2] = the index
// (same slot) and ARGV = email, role, send_as, pw, now, disabled (0 or 1),
// disabled_at, disabled_by. A hash written before the disabled fields
// existed lacks them, which reads as enabled. A script runs
// atomically, so two instances adding one email cannot both succeed and
// the index never disagrees with the hashes.
var (
	addUserScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'role', ARGV[2], 'send_as', ARGV[3], 'pw', ARGV[4],
	'created', ARGV[5], 'updated', ARGV[5],
	'disabled', ARGV[6], 'disabled_at', ARGV[7], 'disabled_by', ARGV[8])
redis.call('SADD', KEYS[2], ARGV[1])
return 1`)
	updateUserScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'role', ARGV[2], 'send_as', ARGV[3], 'pw', ARGV[4],
	'updated', ARGV[5],
	'disabled', ARGV[6], 'disabled_at', ARGV[7], 'disabled_by', ARGV[8])
return 1`)
	// ARGV = email, the login's time: only an existing user's field, so
	// that a login racing a removal leaves no stray hash.
	recordLoginScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'last_login', ARGV[2])
return 1`)
	deleteUserScript = redis.NewScript(`
if redis.call('DEL', KEYS[1]) == 0 then return 0 end
redis.call('SREM', KEYS[2], ARGV[1])
return 1`)
)

// AddUser creates u with the email lower-cased; ErrExists when taken.
func (s *Store) AddUser(ctx context.Context, u store.User) error {
	return s.writeUser(ctx, addUserScript, u, store.ErrExists)
}

// UpdateUser replaces role, SendAs, password hash and the disabled
// fields, keeping CreatedAt and LastLogin.
func (s *Store) UpdateUser(ctx context.Context, u store.User) error {
	return s.writeUser(ctx, updateUserScript, u, store.ErrNotFound)
}

// RecordLogin sets the user's last login alone.
func (s *Store) RecordLogin(ctx context.Context, email string, at time.Time) error {
	email = normEmail(email)
	return s.runUserScript(ctx, recordLoginScript, email, store.ErrNotFound, email, strconv.FormatInt(at.UnixNano(), 10))
}

// writeUser runs an add or update script; a 0 result means refused.
func (s *Store) writeUser(ctx context.Context, script *redis.Script, u store.User, refused error) error {
	email := normEmail(u.Email)
	if email == "" {
		return errEmptyEmail
	}
	sendAs, err := json.Marshal(nonNil(u.SendAs))
	if err != nil {
		return fmt.Errorf("redisstore: %w", err)
	}
	now := strconv.FormatInt(s.now().UnixNano(), 10)
	disabled, at, by := "0", "0", ""
	if u.Disabled {
		disabled, by = "1", u.DisabledBy
		if !u.DisabledAt.IsZero() {
			at = strconv.FormatInt(u.DisabledAt.UnixNano(), 10)
		}
	}
	args := []any{email, string(u.Role), sendAs, u.PasswordHash, now, disabled, at, by}
	return s.runUserScript(ctx, script, email, refused, args...)
}

// DeleteUser removes the user and its index entry together, then the
// user's console sessions and second factor, so that an account created
// later under the same email inherits neither.
func (s *Store) DeleteUser(ctx context.Context, email string) error {
	email = normEmail(email)
	if err := s.runUserScript(ctx, deleteUserScript, email, store.ErrNotFound, email); err != nil {
		return err
	}
	if _, err := s.dropSessions(ctx, email, false); err != nil {
		return err
	}
	return s.DeleteSecondFactor(ctx, email)
}

func (s *Store) runUserScript(ctx context.Context, script *redis.Script, email string, refused error, args ...any) error {
	keys := []string{s.keys.user(email), s.keys.userIndex()}
	done, err := script.Run(ctx, s.c, keys, args...).Int()
	if err != nil {
		return fmt.Errorf("redisstore: user %s: %w", email, err)
	}
	if done == 0 {
		return refused
	}
	return nil
}

// User returns the user with that email, in any case: one HGETALL.
func (s *Store) User(ctx context.Context, email string) (store.User, error) {
	email = normEmail(email)
	h, err := s.c.HGetAll(ctx, s.keys.user(email)).Result()
	if err != nil {
		return store.User{}, fmt.Errorf("redisstore: user: %w", err)
	}
	if len(h) == 0 {
		return store.User{}, store.ErrNotFound
	}
	return parseUser(email, h)
}

// ListUsers reads the index, then every hash in one pipeline (one round
// trip: the keys share a slot).
func (s *Store) ListUsers(ctx context.Context) ([]store.User, error) {
	emails, err := s.c.SMembers(ctx, s.keys.userIndex()).Result()
	if err != nil {
		return nil, fmt.Errorf("redisstore: list users: %w", err)
	}
	slices.Sort(emails)
	cmds := make([]*redis.MapStringStringCmd, len(emails))
	_, err = s.c.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, e := range emails {
			cmds[i] = p.HGetAll(ctx, s.keys.user(e))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("redisstore: list users: %w", err)
	}
	return parseUsers(emails, cmds)
}

func parseUsers(emails []string, cmds []*redis.MapStringStringCmd) ([]store.User, error) {
	users := make([]store.User, 0, len(emails))
	for i, e := range emails {
		h := cmds[i].Val()
		if len(h) == 0 {
			continue // index entry of a user deleted by hand
		}
		u, err := parseUser(e, h)
		if err != nil {
			return nil, err
		}
		users = append(users, u)
	}
	return users, nil
}

func parseUser(email string, h map[string]string) (store.User, error) {
	u := store.User{Email: email, Role: store.Role(h["role"]), PasswordHash: []byte(h["pw"])}
	if err := json.Unmarshal([]byte(h["send_as"]), &u.SendAs); err != nil {
		return store.User{}, fmt.Errorf("redisstore: user %s: send_as: %w", email, err)
	}
	if len(u.SendAs) == 0 {
		u.SendAs = nil
	}
	var err error
	if u.CreatedAt, err = parseNanos(h["created"]); err != nil {
		return store.User{}, fmt.Errorf("redisstore: user %s: created: %w", email, err)
	}
	if u.UpdatedAt, err = parseNanos(h["updated"]); err != nil {
		return store.User{}, fmt.Errorf("redisstore: user %s: updated: %w", email, err)
	}
	u.Disabled, u.DisabledBy = h["disabled"] == "1", h["disabled_by"]
	if u.DisabledAt, err = optionalNanos(h["disabled_at"]); err != nil {
		return store.User{}, fmt.Errorf("redisstore: user %s: disabled_at: %w", email, err)
	}
	if u.LastLogin, err = optionalNanos(h["last_login"]); err != nil {
		return store.User{}, fmt.Errorf("redisstore: user %s: last_login: %w", email, err)
	}
	return u, nil
}

func parseNanos(s string) (time.Time, error) {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return time.Time{}, err
	}
	return time.Unix(0, n).UTC(), nil
}

// optionalNanos reads a field that may be absent or "0": the zero time.
func optionalNanos(s string) (time.Time, error) {
	if s == "" || s == "0" {
		return time.Time{}, nil
	}
	return parseNanos(s)
}

func normEmail(email string) string { return strings.ToLower(email) }

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
