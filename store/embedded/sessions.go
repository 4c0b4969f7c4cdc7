package embedded

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/dncgate/dncgate/store"
)

// consoleSchema holds the console's sessions and the users' second
// factors; deleting a user deletes both, in the same statement.
const consoleSchema = `CREATE TABLE IF NOT EXISTS sessions (
		id         TEXT PRIMARY KEY,
		user       TEXT NOT NULL,
		pending    TEXT NOT NULL,
		csrf       TEXT NOT NULL,
		created_at INTEGER NOT NULL,
		seen_at    INTEGER NOT NULL,
		expires_at INTEGER NOT NULL
	) WITHOUT ROWID;
	CREATE INDEX IF NOT EXISTS sessions_user ON sessions (user);
	CREATE INDEX IF NOT EXISTS sessions_expiry ON sessions (expires_at);
	CREATE TABLE IF NOT EXISTS second_factors (
		email       TEXT PRIMARY KEY,
		secret      TEXT NOT NULL,
		enrolled_at INTEGER NOT NULL
	) WITHOUT ROWID;
	CREATE TABLE IF NOT EXISTS recovery_codes (
		email  TEXT NOT NULL,
		digest TEXT NOT NULL,
		PRIMARY KEY (email, digest)
	) WITHOUT ROWID;
	CREATE TRIGGER IF NOT EXISTS users_console_cleanup AFTER DELETE ON users BEGIN
		DELETE FROM sessions WHERE user = old.email;
		DELETE FROM second_factors WHERE email = old.email;
		DELETE FROM recovery_codes WHERE email = old.email;
	END;`

// CreateSession stores s until now+ttl; ErrExists when the ID is taken
// by a live session. It also purges a batch of expired ones.
func (s *Store) CreateSession(ctx context.Context, se store.Session, ttl time.Duration) error {
	if ttl <= 0 {
		return errBadTTL
	}
	now := s.now()
	_, _ = s.w.ExecContext(ctx, `DELETE FROM sessions WHERE id IN
		(SELECT id FROM sessions WHERE expires_at <= ?1 LIMIT ?2)`, nanos(now), purgeBatch)
	res, err := s.w.ExecContext(ctx, `INSERT INTO sessions (id, user, pending, csrf, created_at, seen_at, expires_at)
		VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (id) DO NOTHING`,
		se.ID, normEmail(se.User), se.Pending, se.CSRF, nanos(se.CreatedAt), nanos(se.SeenAt), nanos(now.Add(ttl)))
	if err != nil {
		return fmt.Errorf("embedded: create session: %w", err)
	}
	return oneRow(res, store.ErrExists)
}

// Session returns a live session, or ErrNotFound.
func (s *Store) Session(ctx context.Context, id string) (store.Session, error) {
	se := store.Session{ID: id}
	var created, seen int64
	err := s.r.QueryRowContext(ctx, `SELECT user, pending, csrf, created_at, seen_at FROM sessions
		WHERE id = ?1 AND expires_at > ?2`, id, nanos(s.now())).Scan(&se.User, &se.Pending, &se.CSRF, &created, &seen)
	if errors.Is(err, sql.ErrNoRows) {
		return store.Session{}, store.ErrNotFound
	}
	if err != nil {
		return store.Session{}, fmt.Errorf("embedded: session: %w", err)
	}
	se.CreatedAt, se.SeenAt = fromNanos(created), fromNanos(seen)
	return se, nil
}

// TouchSession sets SeenAt and moves the expiry to now+ttl.
func (s *Store) TouchSession(ctx context.Context, id string, seen time.Time, ttl time.Duration) error {
	if ttl <= 0 {
		return errBadTTL
	}
	now := s.now()
	res, err := s.w.ExecContext(ctx, `UPDATE sessions SET seen_at = ?2, expires_at = ?3 WHERE id = ?1 AND expires_at > ?4`,
		id, nanos(seen), nanos(now.Add(ttl)), nanos(now))
	if err != nil {
		return fmt.Errorf("embedded: touch session: %w", err)
	}
	return oneRow(res, store.ErrNotFound)
}

// DeleteSession removes the session; absent is not an error.
func (s *Store) DeleteSession(ctx context.Context, id string) error {
	if _, err := s.w.ExecContext(ctx, `DELETE FROM sessions WHERE id = ?`, id); err != nil {
		return fmt.Errorf("embedded: delete session: %w", err)
	}
	return nil
}

// DeleteUserSessions removes every session of user and counts the live ones.
func (s *Store) DeleteUserSessions(ctx context.Context, user string) (int, error) {
	now := nanos(s.now())
	rows, err := s.w.QueryContext(ctx, `DELETE FROM sessions WHERE user = ? RETURNING expires_at`, normEmail(user))
	if err != nil {
		return 0, fmt.Errorf("embedded: delete sessions: %w", err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var exp int64
		if err := rows.Scan(&exp); err != nil {
			return 0, fmt.Errorf("embedded: delete sessions: %w", err)
		}
		if exp > now {
			n++
		}
	}
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("embedded: delete sessions: %w", err)
	}
	return n, nil
}

// SecondFactor returns the user's second factor, or ErrNotFound.
func (s *Store) SecondFactor(ctx context.Context, email string) (store.SecondFactor, error) {
	email = normEmail(email)
	var f store.SecondFactor
	var at int64
	err := s.r.QueryRowContext(ctx, `SELECT secret, enrolled_at FROM second_factors WHERE email = ?`, email).Scan(&f.Secret, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return f, store.ErrNotFound
	}
	if err != nil {
		return f, fmt.Errorf("embedded: second factor: %w", err)
	}
	f.EnrolledAt = fromNanos(at)
	rows, err := s.r.QueryContext(ctx, `SELECT digest FROM recovery_codes WHERE email = ? ORDER BY digest`, email)
	if err != nil {
		return f, fmt.Errorf("embedded: recovery codes: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var d string
		if err := rows.Scan(&d); err != nil {
			return f, fmt.Errorf("embedded: recovery codes: %w", err)
		}
		f.Recovery = append(f.Recovery, d)
	}
	return f, rows.Err()
}

// SetSecondFactor replaces the user's secret and recovery codes in one
// transaction.
func (s *Store) SetSecondFactor(ctx context.Context, email string, f store.SecondFactor) error {
	email = normEmail(email)
	if strings.TrimSpace(f.Secret) == "" {
		return errors.New("embedded: a second factor needs a secret")
	}
	return wrap("set second factor", s.inTx(ctx, func(tx *sql.Tx) (bool, error) {
		if _, err := tx.ExecContext(ctx, `INSERT INTO second_factors (email, secret, enrolled_at) VALUES (?1, ?2, ?3)
			ON CONFLICT (email) DO UPDATE SET secret = excluded.secret, enrolled_at = excluded.enrolled_at`,
			email, f.Secret, nanos(f.EnrolledAt)); err != nil {
			return false, err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM recovery_codes WHERE email = ?`, email); err != nil {
			return false, err
		}
		for _, d := range f.Recovery {
			if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO recovery_codes (email, digest) VALUES (?, ?)`, email, d); err != nil {
				return false, err
			}
		}
		return true, nil
	}))
}

// DeleteSecondFactor removes the secret and the recovery codes.
func (s *Store) DeleteSecondFactor(ctx context.Context, email string) error {
	email = normEmail(email)
	return wrap("delete second factor", s.inTx(ctx, func(tx *sql.Tx) (bool, error) {
		if _, err := tx.ExecContext(ctx, `DELETE FROM second_factors WHERE email = ?`, email); err != nil {
			return false, err
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM recovery_codes WHERE email = ?`, email)
		return err == nil, err
	}))
}

// UseRecoveryCode deletes the code's row: one DELETE, so of two uses at
// once only one removes it.
func (s *Store) UseRecoveryCode(ctx context.Context, email, digest string) (bool, error) {
	res, err := s.w.ExecContext(ctx, `DELETE FROM recovery_codes WHERE email = ? AND digest = ?`, normEmail(email), digest)
	if err != nil {
		return false, fmt.Errorf("embedded: use recovery code: %w", err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// wrap names the operation in a store error.
func wrap(what string, err error) error {
	if err != nil {
		return fmt.Errorf("embedded: %s: %w", what, err)
	}
	return nil
}
