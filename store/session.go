package store

import (
	"context"
	"time"
)

// Session is one login to the web console. The store keeps it so that any
// instance serves it; what the browser holds is a secret whose digest is
// the ID, so a copy of the store opens no session.
type Session struct {
	ID   string // digest of the cookie's secret, hex
	User string // lower-cased email
	// Pending is the step of the login still to be done: "" when the
	// session is complete, else a name the console gives (the second
	// factor, its enrolment).
	Pending   string
	CSRF      string    // the token every form of the session carries
	CreatedAt time.Time // the login; the absolute expiry counts from it
	SeenAt    time.Time // the last request; the idle expiry counts from it
}

// Sessions keep the console's logins.
type Sessions interface {
	// CreateSession stores s, which vanishes after ttl unless touched;
	// ErrExists when its ID is taken.
	CreateSession(ctx context.Context, s Session, ttl time.Duration) error
	// Session returns the session with that ID, or ErrNotFound.
	Session(ctx context.Context, id string) (Session, error)
	// TouchSession sets SeenAt and gives the session ttl more to live;
	// ErrNotFound when it is gone.
	TouchSession(ctx context.Context, id string, seen time.Time, ttl time.Duration) error
	// DeleteSession removes the session; no error when it is absent.
	DeleteSession(ctx context.Context, id string) error
	// DeleteUserSessions removes every session of user and says how many.
	DeleteUserSessions(ctx context.Context, user string) (int, error)
}

// SecondFactor is a user's one-time-code secret (TOTP, RFC 6238) and the
// recovery codes left.
type SecondFactor struct {
	Secret     string    // base32
	Recovery   []string  // digests of the unused recovery codes, never the codes
	EnrolledAt time.Time // set by the caller
}

// SecondFactors keep the users' second factors; deleting a user deletes
// theirs and their sessions.
type SecondFactors interface {
	// SecondFactor returns the user's, or ErrNotFound when not enrolled.
	SecondFactor(ctx context.Context, email string) (SecondFactor, error)
	// SetSecondFactor replaces the user's second factor with f.
	SetSecondFactor(ctx context.Context, email string, f SecondFactor) error
	// DeleteSecondFactor removes it; no error when there is none.
	DeleteSecondFactor(ctx context.Context, email string) error
	// UseRecoveryCode removes the recovery code digest and reports
	// whether it was there: of two uses at once, one only gets true.
	UseRecoveryCode(ctx context.Context, email, digest string) (bool, error)
}
