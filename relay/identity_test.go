package relay

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/dncgate/dncgate/store"
)

// countingUsers is a Users whose accounts can change under the cache.
type countingUsers struct {
	mu    sync.Mutex
	m     map[string]store.User
	reads int
}

func (c *countingUsers) User(_ context.Context, email string) (store.User, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.reads++
	u, ok := c.m[email]
	if !ok {
		return store.User{}, store.ErrNotFound
	}
	return u, nil
}

func TestIdentityCache(t *testing.T) {
	users := &countingUsers{m: map[string]store.User{}}
	now := time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC)
	c := newIdentityCache(users, func() time.Time { return now })
	ctx := context.Background()

	// Unknown identities are not remembered: once added, they work at once.
	if _, err := c.User(ctx, "crm@acme.test"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown identity: %v", err)
	}
	users.m["crm@acme.test"] = store.User{Email: "crm@acme.test", SendAs: []string{"@acme.test"}}
	if u, err := c.User(ctx, "crm@acme.test"); err != nil || u.SendAs[0] != "@acme.test" {
		t.Fatalf("after add: %v %v", u, err)
	}

	// Within the TTL the store is not asked again.
	reads := users.reads
	users.m["crm@acme.test"] = store.User{Email: "crm@acme.test", SendAs: []string{"@other.test"}}
	now = now.Add(identityTTL / 2)
	if u, _ := c.User(ctx, "crm@acme.test"); u.SendAs[0] != "@acme.test" || users.reads != reads {
		t.Fatalf("within TTL: send-as %v, %d new reads", u.SendAs, users.reads-reads)
	}

	// After it, the change is seen.
	now = now.Add(identityTTL)
	if u, _ := c.User(ctx, "crm@acme.test"); u.SendAs[0] != "@other.test" {
		t.Fatalf("after TTL still sees %v", u.SendAs)
	}

	// A removed user stops working once the entry is stale.
	delete(users.m, "crm@acme.test")
	now = now.Add(identityTTL)
	if _, err := c.User(ctx, "crm@acme.test"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("removed user: %v", err)
	}
}
