// Package teststore runs a test on each store dncgate runs on: the
// embedded one, a redis-server and a 3-master Redis Cluster, each real
// and fresh for the test.
package teststore

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/dncgate/dncgate/caps"
	"github.com/dncgate/dncgate/contactdb"
	"github.com/dncgate/dncgate/internal/testredis"
	"github.com/dncgate/dncgate/listdb"
	"github.com/dncgate/dncgate/store/embedded"
	"github.com/dncgate/dncgate/store/redisstore"
	"github.com/dncgate/dncgate/webhook"
)

// Store is what both implementations keep: lists, contacts, caps and the
// webhooks' queue.
type Store interface {
	listdb.Store
	caps.Store
	webhook.Queue
	Contacts() contactdb.Store
}

// Each runs f as a subtest on each store, named embedded, redis and
// cluster. A missing redis-server fails the Redis subtests.
func Each(t *testing.T, f func(t *testing.T, st Store)) {
	t.Run("embedded", func(t *testing.T) {
		st, err := embedded.Open(filepath.Join(t.TempDir(), "dncgate.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		f(t, st)
	})
	t.Run("redis", func(t *testing.T) {
		f(t, openRedis(t, redisstore.Options{URL: "redis://" + testredis.Start(t)}))
	})
	t.Run("cluster", func(t *testing.T) {
		f(t, openRedis(t, redisstore.Options{ClusterAddrs: testredis.StartCluster(t, 3)}))
	})
}

func openRedis(t *testing.T, o redisstore.Options) *redisstore.Store {
	t.Helper()
	st, err := redisstore.Open(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}
