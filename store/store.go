// Package store defines the persistence that every dncgate instance shares:
// users, delivered-recipient markers, throttle counters and login attempts. Two
// implementations satisfy it: an embedded single-file store (package
// store/embedded) and Redis (package store/redisstore).
package store

import (
	"context"
	"errors"
	"time"
)

// ErrNotFound is returned when a named record does not exist.
var ErrNotFound = errors.New("not found")

// ErrExists is returned by AddUser when the user is already there.
var ErrExists = errors.New("already exists")

// Role is what a user may do: send mail, review the log, administer.
type Role string

const (
	RoleRep     Role = "rep"
	RoleManager Role = "manager"
	RoleAdmin   Role = "admin"
)

// Valid reports whether r is one of the known roles.
func (r Role) Valid() bool {
	return r == RoleRep || r == RoleManager || r == RoleAdmin
}

// User is an account that may authenticate to the relay.
type User struct {
	Email        string    // login name, lower-cased
	Role         Role      // rep, manager or admin
	SendAs       []string  // addresses ("a@b.fr") or domains ("@b.fr") the user may send as
	PasswordHash []byte    // bcrypt hash; never the password itself
	CreatedAt    time.Time // set by the store on AddUser
	UpdatedAt    time.Time // set by the store on every write
	// Disabled refuses every login of the user (SMTP AUTH, the HTTP APIs,
	// the console) while keeping the account; DisabledAt and DisabledBy
	// say when and by whom, zero when enabled. UpdateUser writes them.
	Disabled   bool
	DisabledAt time.Time
	DisabledBy string
	// LastLogin is the last successful login at any door, as far as
	// RecordLogin was told (zero: none yet). UpdateUser leaves it alone.
	LastLogin time.Time
}

// Users keeps the accounts.
type Users interface {
	// AddUser creates u; ErrExists when the email is taken.
	AddUser(ctx context.Context, u User) error
	// UpdateUser replaces an existing user, all but CreatedAt and
	// LastLogin; ErrNotFound when absent.
	UpdateUser(ctx context.Context, u User) error
	// RecordLogin sets the user's LastLogin to at, and nothing else, so
	// that it never undoes a concurrent UpdateUser; ErrNotFound when absent.
	RecordLogin(ctx context.Context, email string, at time.Time) error
	// User returns the user with that (lower-cased) email, or ErrNotFound.
	User(ctx context.Context, email string) (User, error)
	// ListUsers returns every user sorted by email.
	ListUsers(ctx context.Context) ([]User, error)
	// DeleteUser removes the user; ErrNotFound when absent.
	DeleteUser(ctx context.Context, email string) error
}

// Deliveries remembers which recipients of a message the upstream already
// accepted, so that a client retry after a partial failure reaches only the
// missing ones. msg is a digest of the message, rcpt a digest of the
// recipient; both are opaque strings to the store.
type Deliveries interface {
	// Delivered returns the set of rcpt digests marked for msg (nil when none).
	Delivered(ctx context.Context, msg string) (map[string]bool, error)
	// MarkDelivered records rcpt as delivered for msg; the mark expires after ttl.
	MarkDelivered(ctx context.Context, msg, rcpt string, ttl time.Duration) error
}

// Counters are fixed-window event counters used to slow and then refuse
// repeated authentication failures across every instance.
type Counters interface {
	// Hit adds one to key and returns the new count. The count starts a
	// window of length window at its first hit and vanishes when it ends.
	Hit(ctx context.Context, key string, window time.Duration) (int64, error)
	// Count returns the current count of key (0 when absent or expired).
	Count(ctx context.Context, key string) (int64, error)
	// ResetCount deletes key.
	ResetCount(ctx context.Context, key string) error
}

// AttemptKey is one counter a login attempt is counted against, with the
// count at which it refuses further attempts.
type AttemptKey struct {
	Key   string
	Limit int64 // attempts refused once the count reaches it; 0 only reads the counts
}

// Attempts reserve login attempts before their password is checked, so
// that attempts made in parallel cannot all be checked before any of them
// is counted.
type Attempts interface {
	// ReserveAttempt counts one attempt against every key in one atomic
	// step, unless a key's count has reached its Limit: then it counts
	// none and ok is false. counts are the keys' counts before this
	// attempt, in the order of keys. A key's window starts at its first
	// count and lasts window (a fixed window); the count vanishes then.
	ReserveAttempt(ctx context.Context, keys []AttemptKey, window time.Duration) (counts []int64, ok bool, err error)
	// SettleAttempt gives back a reserved attempt that did not fail: it
	// deletes the counters in reset and takes one off each of release,
	// never below zero, keeping their windows.
	SettleAttempt(ctx context.Context, reset, release []string) error
}

// Store is everything the gateway persists. Implementations are safe for
// concurrent use by many goroutines and, for the embedded store, by several
// processes on the same file.
type Store interface {
	Users
	Deliveries
	Counters
	Identities
	Attempts
	Sessions
	SecondFactors
	// HoldWrites returns a context under which the store may hold back the
	// writes that return only an error (delivered marks, the caps'
	// commits) until flush sends them together: one round trip on Redis
	// for the bookkeeping after an upstream's answer. flush returns the
	// first error of the held writes, which reported none themselves;
	// writes made after it go out at once. A store with nothing to gain
	// holds nothing and its flush does nothing.
	HoldWrites(ctx context.Context) (context.Context, func(ctx context.Context) error)
	// Ping checks that the store answers.
	Ping(ctx context.Context) error
	// Close releases the store's resources.
	Close() error
}

// DumpedKey is one key of a key-value store as a backup holds it (the
// Redis store's Dump and Restore).
type DumpedKey struct {
	Key      string    // without the store's prefix
	Kind     string    // the kind of key, as the store's data map names it
	ExpireAt time.Time // zero: the key does not expire
	Value    []byte    // the store's own serialisation of the value
}
