// Package accounts holds the rules of a user account that the command
// line and the web console both apply: what a login, a role and a
// send-as entry may be, a password's length and hash, disabling, keeping
// one enabled admin, and the audit trail's record of each change.
package accounts

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net/mail"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/crypto/bcrypt"

	"github.com/dncgate/dncgate/auth"
	"github.com/dncgate/dncgate/ledger"
	"github.com/dncgate/dncgate/store"
)

// Password length bounds: bcrypt ignores, and x/crypto refuses, anything
// past 72 bytes.
const (
	MinPassword = 10 // characters
	MaxPassword = 72 // bytes
)

// Field names a validation error, so a form can point at its input.
type Field string

const (
	FieldEmail    Field = "email"
	FieldRole     Field = "role"
	FieldSendAs   Field = "send_as"
	FieldPassword Field = "password"
)

// Error is a value refused, with the field it came from.
type Error struct {
	Field Field
	Value string // as given; empty for a password
	Err   error
}

func (e *Error) Error() string { return e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// Errors of the rules, found with errors.Is.
var (
	ErrBadEmail    = errors.New("not an e-mail address")
	ErrBadRole     = errors.New("unknown role")
	ErrBadSendAs   = errors.New("neither an e-mail address nor @domain")
	ErrBadPassword = errors.New("bad password length")
	// ErrLastAdmin refuses a change that would leave no enabled admin.
	ErrLastAdmin = errors.New("it would leave no enabled admin")
	// ErrNoUser: there is no such user.
	ErrNoUser = store.ErrNotFound
)

// ParseEmail checks a bare login address (no display name, no angle
// brackets) and lower-cases it: logins are case-insensitive.
func ParseEmail(s string) (string, error) {
	a, err := mail.ParseAddress(s)
	if err != nil || a.Name != "" || a.Address != s || !strings.Contains(s, "@") {
		return "", &Error{FieldEmail, s, fmt.Errorf("%q is %w", s, ErrBadEmail)}
	}
	return strings.ToLower(s), nil
}

// ParseRole checks a role's name.
func ParseRole(s string) (store.Role, error) {
	r := store.Role(s)
	if !r.Valid() {
		return "", &Error{FieldRole, s, fmt.Errorf("%w %q; use rep, manager or admin", ErrBadRole, s)}
	}
	return r, nil
}

// ParseSendAs checks each address or @domain and lower-cases the
// domains; the local part of an address is kept as written (RFC 5321
// §2.4 lets it be case-sensitive). Duplicates are dropped.
func ParseSendAs(list []string) ([]string, error) {
	var out []string
	for _, s := range list {
		n, err := parseSender(s)
		if err != nil {
			return nil, &Error{FieldSendAs, s, err}
		}
		if !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	return out, nil
}

func parseSender(s string) (string, error) {
	if d, ok := strings.CutPrefix(s, "@"); ok {
		if !validDomain(d) {
			return "", fmt.Errorf("send-as %q is not @ followed by a domain: %w", s, ErrBadSendAs)
		}
		return "@" + strings.ToLower(d), nil
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Name != "" || a.Address != s {
		return "", fmt.Errorf("send-as %q is %w", s, ErrBadSendAs)
	}
	at := strings.LastIndexByte(s, '@')
	return s[:at+1] + strings.ToLower(s[at+1:]), nil
}

// validDomain accepts dot-separated labels of letters, digits and hyphens
// (RFC 5321 §4.1.2 Domain).
func validDomain(d string) bool {
	if d == "" || len(d) > 253 {
		return false
	}
	for _, l := range strings.Split(d, ".") {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for _, r := range l {
			if !(r == '-' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
				return false
			}
		}
	}
	return true
}

// New validates a new user's login, role and send-as list (the user's
// own address when empty); the password is the caller's to hash.
func New(email, role string, sendAs []string) (store.User, error) {
	e, err := ParseEmail(email)
	if err != nil {
		return store.User{}, err
	}
	r, err := ParseRole(role)
	if err != nil {
		return store.User{}, err
	}
	if len(sendAs) == 0 {
		sendAs = []string{e}
	}
	list, err := ParseSendAs(sendAs)
	if err != nil {
		return store.User{}, err
	}
	return store.User{Email: e, Role: r, SendAs: list}, nil
}

// CheckPassword checks a password's length.
func CheckPassword(pw string) error {
	switch {
	case utf8.RuneCountInString(pw) < MinPassword:
		return &Error{FieldPassword, "", fmt.Errorf("the password is too short: at least %d characters: %w", MinPassword, ErrBadPassword)}
	case len(pw) > MaxPassword:
		return &Error{FieldPassword, "", fmt.Errorf("the password is too long: at most %d bytes: %w", MaxPassword, ErrBadPassword)}
	}
	return nil
}

// HashPassword checks pw and hashes it at cost (auth.DefaultCost, the
// cost the gateway's stand-in hash has, when 0).
func HashPassword(pw string, cost int) ([]byte, error) {
	if err := CheckPassword(pw); err != nil {
		return nil, err
	}
	if cost == 0 {
		cost = auth.DefaultCost
	}
	return bcrypt.GenerateFromPassword([]byte(pw), cost)
}

// generatedAlphabet leaves out letters and digits read alike (0/O, 1/l/I).
const generatedAlphabet = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"

// GeneratePassword is a random password of 20 characters (about 117 bits),
// for an admin to hand over once.
func GeneratePassword() string {
	b := make([]byte, 20)
	_, _ = rand.Read(b) // never fails (Go 1.24+)
	for i := range b {
		b[i] = generatedAlphabet[int(b[i])%len(generatedAlphabet)]
	}
	return string(b)
}

// Event is the audit trail's record of a change to a user: who made it
// (an admin's login, or the operator at the command line), what changed,
// and the user's role, send-as list and state after it.
func Event(actor, change string, u store.User) ledger.AuditEvent {
	d := map[string]string{"change": change, "role": string(u.Role), "send_as": strings.Join(u.SendAs, ",")}
	if u.Disabled {
		d["disabled"] = "yes"
	}
	return ledger.AuditEvent{Actor: actor, Action: ledger.ActUserChange, Object: u.Email, Details: d}
}

// Store is what a change reads and writes (store.Users and the console's
// sessions).
type Store interface {
	User(ctx context.Context, email string) (store.User, error)
	ListUsers(ctx context.Context) ([]store.User, error)
	UpdateUser(ctx context.Context, u store.User) error
	DeleteUser(ctx context.Context, email string) error
	DeleteUserSessions(ctx context.Context, user string) (int, error)
}

// Update reads the user, lets change modify it and writes it back, unless
// the user was an enabled admin and no other enabled admin would remain.
// A user disabled by the change loses their console sessions at once.
// It returns the user as written.
func Update(ctx context.Context, st Store, email string, change func(*store.User) error) (store.User, error) {
	before, err := st.User(ctx, email)
	if errors.Is(err, store.ErrNotFound) {
		return store.User{}, fmt.Errorf("no user %s: %w", email, ErrNoUser)
	} else if err != nil {
		return store.User{}, fmt.Errorf("reading user %s: %w", email, err)
	}
	after := before
	after.SendAs = slices.Clone(before.SendAs)
	if err := change(&after); err != nil {
		return store.User{}, fmt.Errorf("user %s: %w", email, err)
	}
	if enabledAdmin(before) && !enabledAdmin(after) {
		if err := keepsAdmin(ctx, st, before.Email); err != nil {
			return store.User{}, err
		}
	}
	if err := st.UpdateUser(ctx, after); err != nil {
		return store.User{}, fmt.Errorf("updating user %s: %w", email, err)
	}
	if after.Disabled && !before.Disabled {
		if _, err := st.DeleteUserSessions(ctx, after.Email); err != nil {
			// The console refuses a disabled user's session anyway.
			return after, fmt.Errorf("user %s is disabled, but their console sessions could not be deleted: %w", email, err)
		}
	}
	return after, nil
}

// Remove deletes the user, unless they are an enabled admin and no other
// enabled admin would remain (ErrLastAdmin); ErrNoUser when there is none.
func Remove(ctx context.Context, st Store, email string) error {
	u, err := st.User(ctx, email)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("no user %s: %w", email, ErrNoUser)
	} else if err != nil {
		return fmt.Errorf("reading user %s: %w", email, err)
	}
	if enabledAdmin(u) {
		if err := keepsAdmin(ctx, st, u.Email); err != nil {
			return err
		}
	}
	if err := st.DeleteUser(ctx, email); errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("no user %s: %w", email, ErrNoUser)
	} else if err != nil {
		return fmt.Errorf("removing user %s: %w", email, err)
	}
	return nil
}

// keepsAdmin fails unless an enabled admin other than email exists.
func keepsAdmin(ctx context.Context, st Store, email string) error {
	users, err := st.ListUsers(ctx)
	if err != nil {
		return fmt.Errorf("listing users: %w", err)
	}
	for _, u := range users {
		if u.Email != email && enabledAdmin(u) {
			return nil
		}
	}
	return fmt.Errorf("user %s: %w", email, ErrLastAdmin)
}

func enabledAdmin(u store.User) bool { return u.Role == store.RoleAdmin && !u.Disabled }

// Disable marks u disabled by by at now; already disabled, it keeps the
// first time and author.
func Disable(u *store.User, by string, now time.Time) {
	if u.Disabled {
		return
	}
	u.Disabled, u.DisabledAt, u.DisabledBy = true, now.UTC(), by
}

// Enable clears the disabling.
func Enable(u *store.User) {
	u.Disabled, u.DisabledAt, u.DisabledBy = false, time.Time{}, ""
}
