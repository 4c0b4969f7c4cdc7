package auth

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"sync"
	"time"
)

// maxRemembered bounds the remembered logins.
const maxRemembered = 1024

// memory remembers successful logins for a while, so that an integration
// calling every second, or a mail client connecting for every message,
// does not pay a bcrypt comparison each time. It keeps a keyed digest of
// name, password and the user's stored hash, never the password: a changed
// password or a removed user counts at once.
type memory struct {
	keep time.Duration
	now  func() time.Time
	key  [32]byte // new at every start

	mu   sync.Mutex
	seen map[[32]byte]time.Time // digest → until
}

func newMemory(keep time.Duration, now func() time.Time) *memory {
	m := &memory{keep: keep, now: now, seen: map[[32]byte]time.Time{}}
	rand.Read(m.key[:]) // never fails (crypto/rand, Go 1.24+)
	return m
}

func (m *memory) digest(name, password string, hash []byte) [32]byte {
	h := hmac.New(sha256.New, m.key[:])
	h.Write([]byte(name))
	h.Write([]byte{0})
	h.Write(hash)
	h.Write([]byte{0})
	h.Write([]byte(password))
	var out [32]byte
	copy(out[:], h.Sum(nil))
	return out
}

// remembered looks the login up; a map lookup by the whole digest is as
// good as a constant-time comparison here: the key is secret, so a guess
// cannot be steered towards a stored digest.
func (m *memory) remembered(name, password string, hash []byte) bool {
	if m.keep <= 0 {
		return false
	}
	d := m.digest(name, password, hash)
	m.mu.Lock()
	defer m.mu.Unlock()
	until, ok := m.seen[d]
	if ok && m.now().Before(until) {
		return true
	}
	delete(m.seen, d)
	return false
}

func (m *memory) remember(name, password string, hash []byte) {
	if m.keep <= 0 {
		return
	}
	d := m.digest(name, password, hash)
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.seen) >= maxRemembered {
		clear(m.seen)
	}
	m.seen[d] = m.now().Add(m.keep)
}
