package store

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"
)

// Identity is what a store records about itself when it is created, so
// that a store wiped, replaced or read with another digest key is refused
// rather than taken for an empty one: an empty opt-out list would let
// every opted-out address through.
type Identity struct {
	ID        string    // random, hex; a store re-created gets another
	CreatedAt time.Time // when the store was created
	// KeyFingerprint is KeyFingerprint(digest key): it tells the key the
	// entries were digested with, not the key.
	KeyFingerprint string
	// LinksSent is set once the gateway stamps unsubscribe links: from then
	// on the unsubscribe key file that seals them must not be replaced.
	LinksSent bool
}

// ErrNoIdentity is returned by Identity when the store holds no identity
// record: it was never created, or it was emptied (a Redis restarted
// without persistence, flushed, evicted, or the wrong database).
var ErrNoIdentity = errors.New("the store has no identity record")

// Identities keeps the store's identity record.
type Identities interface {
	// Identity returns the record, or ErrNoIdentity.
	Identity(ctx context.Context) (Identity, error)
	// CreateIdentity records id; ErrExists when a record is there, unless
	// replace is set.
	CreateIdentity(ctx context.Context, id Identity, replace bool) error
	// MarkLinksSent sets LinksSent; ErrNoIdentity when there is no record.
	MarkLinksSent(ctx context.Context) error
	// Guard makes every later list read (Lists, Lookup) and Ping also read
	// the identity record, in the same round trip, and fail with an
	// *IdentityError unless its ID is id: a store wiped while the gateway
	// runs stops every recipient at once, and readiness fails. An empty
	// id turns the guard off.
	Guard(id string)
}

// fingerprintLabel is what the digest key's fingerprint is the HMAC of.
const fingerprintLabel = "dncgate store identity v1"

// fingerprintLen is the fingerprint's length in bytes (hex twice as long):
// enough to tell keys apart, too short to be of use to anyone else.
const fingerprintLen = 8

// KeyFingerprint names key without revealing it: the keyed hash of a fixed
// label, truncated, in hex.
func KeyFingerprint(key []byte) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(fingerprintLabel))
	return hex.EncodeToString(m.Sum(nil)[:fingerprintLen])
}

// NewIdentity is the identity of a store created now with key.
func NewIdentity(key []byte, now time.Time) (Identity, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return Identity{}, err
	}
	return Identity{ID: hex.EncodeToString(b), CreatedAt: now.UTC(), KeyFingerprint: KeyFingerprint(key)}, nil
}

// CheckKey fails when key is not the one the store was created with.
func (id Identity) CheckKey(key []byte) error {
	if got := KeyFingerprint(key); got != id.KeyFingerprint {
		return &IdentityError{Problem: IdentityWrongKey, Want: id.KeyFingerprint, Got: got}
	}
	return nil
}

// IdentityProblem says what is wrong with a store's identity.
type IdentityProblem int

const (
	IdentityMissing  IdentityProblem = iota // the record is gone
	IdentityChanged                         // another store's record
	IdentityWrongKey                        // the digest key is not the store's
)

// IdentityError is a store that is not the one expected. Every list read
// fails with it, so the gateway answers 451 and sends nothing until an
// operator restores the store or re-creates it on purpose.
type IdentityError struct {
	Problem   IdentityProblem
	Want, Got string // store ids, or key fingerprints for IdentityWrongKey
}

func (e *IdentityError) Error() string {
	switch e.Problem {
	case IdentityMissing:
		return "store identity missing: the store was emptied (a Redis restarted without persistence, flushed, evicted, or the wrong database); " +
			"restore it from a backup, or run `dncgate init --force` to start over with empty opt-out lists"
	case IdentityChanged:
		return fmt.Sprintf("store identity changed: the store is %s, not the store %s this process opened; restart dncgate against the right store", e.Got, e.Want)
	}
	return fmt.Sprintf("the digest key (fingerprint %s) is not the key this store was created with (fingerprint %s): "+
		"opted-out addresses would not match; restore the store's key (hmac.key or privacy.hmac_key)", e.Got, e.Want)
}

// CheckGuard is the guard's comparison, shared by the stores: got is the
// ID read ("" when there is none), want the guarded one.
func CheckGuard(want, got string) error {
	switch {
	case want == "" || got == want:
		return nil
	case got == "":
		return &IdentityError{Problem: IdentityMissing, Want: want}
	}
	return &IdentityError{Problem: IdentityChanged, Want: want, Got: got}
}
