package embedded

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/dncgate/dncgate/store"
)

// AddUser creates u with the email lower-cased; ErrExists when taken.
func (s *Store) AddUser(ctx context.Context, u store.User) error {
	args, err := userArgs(u, nanos(s.now()))
	if err != nil {
		return err
	}
	res, err := s.st.addUser.ExecContext(ctx, args...)
	if err != nil {
		return fmt.Errorf("embedded: add user: %w", err)
	}
	return oneRow(res, store.ErrExists)
}

// UpdateUser replaces role, SendAs, password hash and the disabled
// fields, keeping CreatedAt and LastLogin.
func (s *Store) UpdateUser(ctx context.Context, u store.User) error {
	args, err := userArgs(u, nanos(s.now()))
	if err != nil {
		return err
	}
	res, err := s.st.updateUser.ExecContext(ctx, args...)
	if err != nil {
		return fmt.Errorf("embedded: update user: %w", err)
	}
	return oneRow(res, store.ErrNotFound)
}

// RecordLogin sets the user's last login alone.
func (s *Store) RecordLogin(ctx context.Context, email string, at time.Time) error {
	res, err := s.st.recordLogin.ExecContext(ctx, normEmail(email), nanos(at))
	if err != nil {
		return fmt.Errorf("embedded: record login: %w", err)
	}
	return oneRow(res, store.ErrNotFound)
}

// User returns the user with that email, in any case.
func (s *Store) User(ctx context.Context, email string) (store.User, error) {
	u, err := scanUser(s.st.user.QueryRowContext(ctx, normEmail(email)))
	if errors.Is(err, sql.ErrNoRows) {
		return store.User{}, store.ErrNotFound
	}
	if err != nil {
		return store.User{}, fmt.Errorf("embedded: user: %w", err)
	}
	return u, nil
}

// ListUsers returns every user sorted by email.
func (s *Store) ListUsers(ctx context.Context) ([]store.User, error) {
	rows, err := s.st.listUsers.QueryContext(ctx)
	if err != nil {
		return nil, fmt.Errorf("embedded: list users: %w", err)
	}
	defer rows.Close()
	var users []store.User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, fmt.Errorf("embedded: list users: %w", err)
		}
		users = append(users, u)
	}
	return users, rows.Err()
}

// DeleteUser removes the user; ErrNotFound when absent.
func (s *Store) DeleteUser(ctx context.Context, email string) error {
	res, err := s.st.deleteUser.ExecContext(ctx, normEmail(email))
	if err != nil {
		return fmt.Errorf("embedded: delete user: %w", err)
	}
	return oneRow(res, store.ErrNotFound)
}

func normEmail(email string) string { return strings.ToLower(email) }

// userArgs are the parameters ?1..?8 of the add and update statements.
func userArgs(u store.User, now int64) ([]any, error) {
	email := normEmail(u.Email)
	if email == "" {
		return nil, errEmptyEmail
	}
	sendAs, err := json.Marshal(nonNil(u.SendAs))
	if err != nil {
		return nil, fmt.Errorf("embedded: %w", err)
	}
	hash := u.PasswordHash
	if hash == nil {
		hash = []byte{} // NOT NULL column; nil would bind as NULL
	}
	var disabledAt int64
	if u.Disabled && !u.DisabledAt.IsZero() {
		disabledAt = nanos(u.DisabledAt)
	}
	by := u.DisabledBy
	if !u.Disabled {
		by = ""
	}
	return []any{email, string(u.Role), string(sendAs), hash, now, u.Disabled, disabledAt, by}, nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// oneRow maps "no row affected" to absent, the error the caller names.
func oneRow(res sql.Result, absent error) error {
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("embedded: %w", err)
	}
	if n == 0 {
		return absent
	}
	return nil
}

type scanner interface{ Scan(dest ...any) error }

func scanUser(row scanner) (store.User, error) {
	var (
		u                store.User
		role, sendAs     string
		created, updated int64
		disabledAt, last int64
	)
	err := row.Scan(&u.Email, &role, &sendAs, &u.PasswordHash, &created, &updated,
		&u.Disabled, &disabledAt, &u.DisabledBy, &last)
	if err != nil {
		return store.User{}, err
	}
	if err := json.Unmarshal([]byte(sendAs), &u.SendAs); err != nil {
		return store.User{}, fmt.Errorf("user %s: send_as: %w", u.Email, err)
	}
	if len(u.SendAs) == 0 {
		u.SendAs = nil
	}
	u.Role = store.Role(role)
	u.CreatedAt, u.UpdatedAt = fromNanos(created), fromNanos(updated)
	if disabledAt != 0 {
		u.DisabledAt = fromNanos(disabledAt)
	}
	if last != 0 {
		u.LastLogin = fromNanos(last)
	}
	return u, nil
}
