// Package auth checks a user's name and password for every door of the
// gateway (SMTP AUTH, the HTTP API, later the web console): one lock-out,
// one slow-down and one cost for a login, wherever it comes from. It
// knows nothing of SMTP or HTTP; callers turn its Result into a reply.
package auth

import (
	"context"
	"errors"
	"net/netip"
	"runtime"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/dncgate/dncgate/store"
)

// DefaultCost is the bcrypt work factor of stored password hashes (about a
// quarter of a second on a server core) and of the stand-in hash compared
// for an unknown user.
const DefaultCost = 12

// Users finds accounts by their lower-cased e-mail; store.ErrNotFound when
// there is none.
type Users interface {
	User(ctx context.Context, email string) (store.User, error)
}

// Attempts is the store's side of the lock-out (store.Attempts).
type Attempts interface {
	ReserveAttempt(ctx context.Context, keys []store.AttemptKey, window time.Duration) ([]int64, bool, error)
	SettleAttempt(ctx context.Context, reset, release []string) error
}

// Options configure an Authenticator. Zero values take the defaults noted.
type Options struct {
	Users    Users
	Attempts Attempts
	Limits   Limits
	// Cost is the bcrypt cost of the stand-in hash, the cost the stored
	// hashes have; DefaultCost when 0. A user whose hash has another cost
	// makes a stand-in at that cost too, in the background.
	Cost int
	// Workers bounds the bcrypt comparisons running at once; default half
	// of GOMAXPROCS (at least one), so that logins leave the relay a core.
	Workers int
	// Wait pauses for d or until ctx ends; default a timer. Tests replace
	// it to record the delays.
	Wait func(ctx context.Context, d time.Duration) error
	Now  func() time.Time // default time.Now
	// Remember is how long a successful login is remembered, so that a
	// client logging in again soon costs no comparison; 0 remembers none.
	Remember time.Duration
	// OnCompare, when set, is called before every bcrypt comparison
	// (tests count them).
	OnCompare func()
	// Logins, when set, is told the time of successful logins, at most
	// once per LoginEvery (default DefaultLoginEvery) and user, in the
	// background; LoginNotRecorded, when set, is told of a write that
	// failed (the login stands).
	Logins           Logins
	LoginEvery       time.Duration
	LoginNotRecorded func(name string, err error)
}

// Attempt is one login: the name and password as the client gave them,
// and the client's address (the real client's, behind a proxy that says).
type Attempt struct {
	User     string
	Password string
	Client   netip.Addr
}

// Outcome is what became of an attempt.
type Outcome int

const (
	// Accepted: the name and password are a user's.
	Accepted Outcome = iota
	// Refused: wrong name or password, or a disabled user; the client
	// cannot tell which.
	Refused
	// Locked: too many failures; nothing was checked, even a right password
	// is refused until the window ends.
	Locked
	// Unavailable: the store could not answer; nothing was counted.
	Unavailable
)

func (o Outcome) String() string {
	switch o {
	case Accepted:
		return "accepted"
	case Refused:
		return "refused"
	case Locked:
		return "locked"
	}
	return "unavailable"
}

// Result of one attempt.
type Result struct {
	Outcome Outcome
	User    store.User // when Accepted
	// Name is the login name, trimmed and lower-cased.
	Name string
	// RetryAfter is when a Locked client may try again, at the latest.
	RetryAfter time.Duration
	// Cause tells the log why (unknown user, wrong password, which limit,
	// the store's error); never for the client.
	Cause error
}

// Causes of a refusal, told apart in the log only.
var (
	ErrUnknownUser   = errors.New("unknown user")
	ErrWrongPassword = errors.New("password does not match")
	// ErrDisabled: the password matched a disabled user. The client is
	// told what a wrong password gets, so a guesser learns nothing.
	ErrDisabled = errors.New("user is disabled")
)

// Authenticator checks logins; safe for concurrent use.
type Authenticator struct {
	o      Options
	limits Limits
	pool   chan struct{} // one token per running comparison
	stand  *standIn
	memory *memory
	logins *lastLogins
}

// New returns an Authenticator. It makes the stand-in hash at once, so
// that the first attempt at an unknown user already costs what a known
// one does.
func New(o Options) (*Authenticator, error) {
	if o.Users == nil || o.Attempts == nil {
		return nil, errors.New("auth: users and attempts are required")
	}
	lim, err := o.Limits.withDefaults()
	if err != nil {
		return nil, err
	}
	if o.Workers <= 0 {
		o.Workers = max(1, runtime.GOMAXPROCS(0)/2)
	}
	if o.Wait == nil {
		o.Wait = sleep
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	stand, err := newStandIn(o.Cost)
	if err != nil {
		return nil, err
	}
	return &Authenticator{o: o, limits: lim, pool: make(chan struct{}, o.Workers), stand: stand,
		memory: newMemory(o.Remember, o.Now), logins: newLastLogins(o)}, nil
}

// Flush returns once the last-login writes under way are done.
func (a *Authenticator) Flush() { a.logins.wait() }

// Login checks one attempt. The attempt is counted in the store before
// the password is checked, in one atomic step per attempt: however many
// arrive at once, no more than the limits allow are checked. A refused
// attempt costs no hash.
func (a *Authenticator) Login(ctx context.Context, at Attempt) Result {
	name := strings.ToLower(strings.TrimSpace(at.User))
	k := newKeys(at.Client, name)
	counts, ok, err := a.o.Attempts.ReserveAttempt(ctx, k.limits(a.limits), a.limits.Window)
	switch {
	case err != nil:
		return Result{Outcome: Unavailable, Name: name, Cause: err}
	case !ok:
		return Result{Outcome: Locked, Name: name, RetryAfter: a.limits.Window, Cause: k.lockedBy(counts, a.limits)}
	}
	if d := a.limits.delay(counts); d > 0 {
		if err := a.o.Wait(ctx, d); err != nil {
			return Result{Outcome: Unavailable, Name: name, Cause: err} // stays counted
		}
	}
	r := a.check(ctx, name, at.Password)
	r.Name = name
	switch r.Outcome {
	case Accepted:
		reset, release := k.succeeded()
		a.settle(ctx, reset, release)
		a.logins.seen(name)
	case Unavailable:
		reset, release := k.notChecked()
		a.settle(ctx, reset, release)
	}
	return r
}

// settle gives an attempt back; when the store cannot, the attempt stays
// counted, the safe side.
func (a *Authenticator) settle(ctx context.Context, reset, release []string) {
	_ = a.o.Attempts.SettleAttempt(context.WithoutCancel(ctx), reset, release)
}

// check compares the password with the user's hash, or with the stand-in
// when there is no such user, so that both cost one comparison at the
// same cost and read alike.
func (a *Authenticator) check(ctx context.Context, name, password string) Result {
	u, err := a.o.Users.User(ctx, name)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return Result{Outcome: Unavailable, Cause: err}
	}
	known := err == nil && len(u.PasswordHash) > 0
	if known && a.memory.remembered(name, password, u.PasswordHash) {
		return accepted(u)
	}
	hash := a.stand.hash()
	if known {
		hash = u.PasswordHash
		a.stand.seen(hash)
	}
	match, err := a.compare(ctx, hash, password)
	switch {
	case err != nil:
		return Result{Outcome: Unavailable, Cause: err}
	case !known:
		return Result{Outcome: Refused, Cause: ErrUnknownUser}
	case !match:
		return Result{Outcome: Refused, Cause: ErrWrongPassword}
	}
	a.memory.remember(name, password, u.PasswordHash)
	return accepted(u)
}

// accepted is the result of a matching password: refused, as a wrong
// one, for a disabled user, so that the reply tells no guesser that the
// password was right. The user is read at every login, remembered or
// not, so disabling takes effect at the next one.
func accepted(u store.User) Result {
	if u.Disabled {
		return Result{Outcome: Refused, Cause: ErrDisabled}
	}
	return Result{Outcome: Accepted, User: u}
}

// compare runs one bcrypt comparison in the bounded pool.
func (a *Authenticator) compare(ctx context.Context, hash []byte, password string) (bool, error) {
	select {
	case a.pool <- struct{}{}:
	case <-ctx.Done():
		return false, ctx.Err()
	}
	defer func() { <-a.pool }()
	if a.o.OnCompare != nil {
		a.o.OnCompare()
	}
	return bcrypt.CompareHashAndPassword(hash, []byte(password)) == nil, nil
}

// sleep waits d, or less when ctx ends first.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
