package checkapi

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/dncgate/dncgate/store"
)

// Users finds accounts by their lower-cased e-mail; an error (such as
// store.ErrNotFound) when there is none.
type Users interface {
	User(ctx context.Context, email string) (store.User, error)
}

// loginMemory is how long a successful login is remembered, so that an
// integration calling every second does not pay a bcrypt comparison (tens
// of milliseconds) each time. A changed password or a removed user counts
// after at most this long.
const loginMemory = 2 * time.Minute

// maxRemembered bounds the remembered logins.
const maxRemembered = 1024

// authenticator checks user name and password. Remembered logins are kept
// as a keyed digest of name and password, never the password itself.
type authenticator struct {
	users Users
	now   func() time.Time
	key   [32]byte // keys the digests; new at every start
	dummy []byte   // a bcrypt hash compared when the user does not exist

	mu   sync.Mutex
	seen map[[32]byte]time.Time // digest → until
}

func newAuthenticator(users Users, now func() time.Time) *authenticator {
	a := &authenticator{users: users, now: now, seen: map[[32]byte]time.Time{}}
	rand.Read(a.key[:]) // never fails (crypto/rand, Go 1.24+)
	a.dummy, _ = bcrypt.GenerateFromPassword(a.key[:16], bcrypt.DefaultCost)
	return a
}

// check reports whether name and password are a user's. An unknown user
// costs a bcrypt comparison too, so that timing does not tell which names
// exist.
func (a *authenticator) check(ctx context.Context, name, password string) bool {
	name = strings.ToLower(strings.TrimSpace(name))
	d := a.digest(name, password)
	if a.remembered(d) {
		return true
	}
	u, err := a.users.User(ctx, name)
	if err != nil {
		bcrypt.CompareHashAndPassword(a.dummy, []byte(password))
		return false
	}
	if bcrypt.CompareHashAndPassword(u.PasswordHash, []byte(password)) != nil {
		return false
	}
	a.remember(d)
	return true
}

func (a *authenticator) digest(name, password string) [32]byte {
	m := hmac.New(sha256.New, a.key[:])
	m.Write([]byte(name))
	m.Write([]byte{0})
	m.Write([]byte(password))
	var out [32]byte
	copy(out[:], m.Sum(nil))
	return out
}

// remembered looks d up; map lookup by the whole digest is as good as a
// constant-time comparison here: the key is secret, so a guess cannot be
// steered towards a stored digest.
func (a *authenticator) remembered(d [32]byte) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	until, ok := a.seen[d]
	if ok && a.now().Before(until) {
		return true
	}
	delete(a.seen, d)
	return false
}

func (a *authenticator) remember(d [32]byte) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.seen) >= maxRemembered {
		clear(a.seen)
	}
	a.seen[d] = a.now().Add(loginMemory)
}
