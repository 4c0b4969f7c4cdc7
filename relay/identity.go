package relay

import (
	"context"
	"sync"
	"time"

	"github.com/dncgate/dncgate/store"
)

// identityTTL is how long a trusted network's identity is reused before it
// is read from the store again. A CRM or load generator opens a connection
// per message; reading the same account for each costs a store round trip
// on the hot path. A second is short enough that a revoked send-as right or
// a removed user stops working at once for any practical purpose.
const identityTTL = time.Second

// identityCache remembers the accounts that trusted networks act as. Only
// found users are kept: an identity added by the CLI works on its next
// connection.
type identityCache struct {
	users Users
	now   func() time.Time

	mu sync.Mutex
	m  map[string]cachedUser
}

type cachedUser struct {
	u  store.User
	at time.Time
}

func newIdentityCache(users Users, now func() time.Time) *identityCache {
	return &identityCache{users: users, now: now, m: map[string]cachedUser{}}
}

// User returns the account, from the cache when it is fresh.
func (c *identityCache) User(ctx context.Context, email string) (store.User, error) {
	now := c.now()
	c.mu.Lock()
	e, ok := c.m[email]
	c.mu.Unlock()
	if ok && now.Sub(e.at) < identityTTL {
		return e.u, nil
	}
	u, err := c.users.User(ctx, email)
	if err != nil {
		return u, err
	}
	c.mu.Lock()
	c.m[email] = cachedUser{u: u, at: now}
	c.mu.Unlock()
	return u, nil
}
