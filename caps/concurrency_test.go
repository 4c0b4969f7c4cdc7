package caps_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dncgate/dncgate/caps"
	"github.com/dncgate/dncgate/internal/testredis"
	"github.com/dncgate/dncgate/store/redisstore"
)

// gatewayRules are the example caps; the recipient one is the
// bottleneck of the rush.
func gatewayRules() []caps.Rule {
	return []caps.Rule{
		rule("recipient-30d", caps.ScopeRecipient, 3),
		{Name: "domain-day", Scope: caps.ScopeRecipientDomain, Limit: 20, Window: 24 * time.Hour},
		{Name: "rep-day", Scope: caps.ScopeRep, Limit: 300, Window: 24 * time.Hour},
	}
}

// rush sends 200 messages to one recipient at once through the gateways
// (one Checker each, round robin), committing every granted one as the
// upstream would, and checks exactly 3 went out.
func rush(t *testing.T, gateways []*caps.Checker) {
	const n, limit = 200, 3
	var delivered atomic.Int64
	errs := make([]error, n)
	var start, done sync.WaitGroup
	start.Add(1)
	for i := range n {
		done.Go(func() {
			start.Wait()
			errs[i] = send(t.Context(), gateways[i%len(gateways)], fmt.Sprintf("msg-%d", i), &delivered)
		})
	}
	start.Done()
	done.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatalf("store errors during the rush: %v", err)
	}
	if d := delivered.Load(); d != limit {
		t.Fatalf("%d of %d concurrent sends to one recipient delivered, want %d", d, n, limit)
	}
	for _, g := range gateways {
		u, err := g.Usage(t.Context(), "recipient-30d", "prospect@acme.fr", t0)
		if err != nil || u.Count != limit || u.OK {
			t.Fatalf("usage after the rush = %+v, %v; want %d and full", u, err, limit)
		}
	}
}

func send(ctx context.Context, g *caps.Checker, msg string, delivered *atomic.Int64) error {
	tk, ref, err := g.Reserve(ctx, rep, "prospect@acme.fr", "FR", msg, t0)
	if err != nil || ref != nil {
		return err
	}
	delivered.Add(1)
	return tk.Commit(ctx, t0)
}

func checkers(t *testing.T, stores ...caps.Store) []*caps.Checker {
	t.Helper()
	var out []*caps.Checker
	for _, st := range stores {
		c, err := caps.New(gatewayRules(), st, testKey, caps.Options{})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, c)
	}
	return out
}

func openRedis(t *testing.T, o redisstore.Options) *redisstore.Store {
	t.Helper()
	s, err := redisstore.Open(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestRushThreeGatewaysRedis: three gateway instances, each with its own
// connection pool, on one Redis.
func TestRushThreeGatewaysRedis(t *testing.T) {
	o := redisstore.Options{URL: "redis://" + testredis.Start(t)}
	rush(t, checkers(t, openRedis(t, o), openRedis(t, o), openRedis(t, o)))
}

// TestRushThreeGatewaysCluster: the same on a Redis Cluster of 3 masters,
// where the three caps of a recipient live on different nodes.
func TestRushThreeGatewaysCluster(t *testing.T) {
	o := redisstore.Options{ClusterAddrs: testredis.StartCluster(t, 3)}
	rush(t, checkers(t, openRedis(t, o), openRedis(t, o), openRedis(t, o)))
}

// TestRushThreeGatewaysEmbedded: three stores open on one file, as three
// processes on one machine would.
func TestRushThreeGatewaysEmbedded(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dncgate.db")
	rush(t, checkers(t, openEmbedded(t, path), openEmbedded(t, path), openEmbedded(t, path)))
}
