package testredis

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

func TestStartAnswersAndIsEmpty(t *testing.T) {
	addr := Start(t)
	c := redis.NewClient(&redis.Options{Addr: addr})
	defer c.Close()
	ctx := context.Background()
	if err := c.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatalf("SET on %s: %v", addr, err)
	}
	if n, err := c.DBSize(ctx).Result(); err != nil || n != 1 {
		t.Fatalf("DBSIZE = %d, %v; want 1 (a fresh server holding only our key)", n, err)
	}
}

func TestStartTwiceGivesDistinctServers(t *testing.T) {
	a, b := Start(t), Start(t)
	if a == b {
		t.Fatalf("both servers on %s", a)
	}
}

func TestStartStopsServerAtCleanup(t *testing.T) {
	var addr string
	t.Run("inner", func(t *testing.T) { addr = Start(t) })
	if err := ping(addr); err == nil {
		t.Fatalf("server on %s still answers after its test ended", addr)
	}
}

func TestStartFailsWithoutRedisServer(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	ft := &fatalRecorder{TB: t}
	func() {
		defer func() {
			if r := recover(); r != nil && r != ft {
				panic(r)
			}
		}()
		Start(ft)
	}()
	if ft.msg == "" {
		t.Fatal("Start did not fail when redis-server was missing")
	}
	if want := "install it"; !strings.Contains(ft.msg, want) {
		t.Fatalf("failure message %q does not say %q", ft.msg, want)
	}
}

func TestStartClusterServesEverySlot(t *testing.T) {
	addrs := StartCluster(t, 3)
	if len(addrs) != 3 {
		t.Fatalf("got %d addresses, want 3", len(addrs))
	}
	c := redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs})
	defer c.Close()
	ctx := context.Background()
	// Keys spread over the slots land on all three masters.
	for i := range 300 {
		if err := c.Set(ctx, fmt.Sprintf("k%d", i), i, 0).Err(); err != nil {
			t.Fatalf("SET k%d: %v", i, err)
		}
	}
	var masters atomic.Int32 // ForEachMaster calls back concurrently
	err := c.ForEachMaster(ctx, func(ctx context.Context, m *redis.Client) error {
		n, err := m.DBSize(ctx).Result()
		if err != nil {
			return err
		}
		if n == 0 {
			return fmt.Errorf("master %s holds no keys", m.Options().Addr)
		}
		masters.Add(1)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n := masters.Load(); n != 3 {
		t.Fatalf("cluster client sees %d masters, want 3", n)
	}
}

// fatalRecorder records the Fatal message instead of ending the test, and
// stops the caller with a panic as FailNow would.
type fatalRecorder struct {
	testing.TB
	msg string
}

func (f *fatalRecorder) Fatalf(format string, args ...any) {
	f.msg = fmt.Sprintf(format, args...)
	panic(f)
}

func (f *fatalRecorder) Fatal(args ...any) {
	f.msg = fmt.Sprint(args...)
	panic(f)
}

func TestServerRestartKeepsOrEmptiesData(t *testing.T) {
	s := StartServer(t)
	ctx := context.Background()
	c := redis.NewClient(&redis.Options{Addr: s.Addr})
	defer c.Close()
	if err := c.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	s.Stop()
	if err := redis.NewClient(&redis.Options{Addr: s.Addr, MaxRetries: -1}).Ping(ctx).Err(); err == nil {
		t.Fatal("the stopped server still answers PING")
	}
	s.Restart()
	if v, err := c.Get(ctx, "k").Result(); err != nil || v != "v" {
		t.Fatalf("after a restart GET k = %q, %v; want the saved v", v, err)
	}
	s.Stop()
	putBack := s.Empty()
	s.Restart()
	if n, err := c.DBSize(ctx).Result(); err != nil || n != 0 {
		t.Fatalf("restarted empty: DBSIZE = %d, %v; want 0", n, err)
	}
	s.Stop()
	putBack()
	s.Restart()
	if v, err := c.Get(ctx, "k").Result(); err != nil || v != "v" {
		t.Fatalf("restarted from the dump put back: GET k = %q, %v", v, err)
	}
}

func TestClusterReplicaTakesOver(t *testing.T) {
	cl := StartClusterWithReplicas(t, 3)
	c := redis.NewClusterClient(&redis.ClusterOptions{Addrs: cl.Addrs()})
	defer c.Close()
	ctx := context.Background()
	for i := range 100 {
		if err := c.Set(ctx, fmt.Sprintf("k%d", i), i, 0).Err(); err != nil {
			t.Fatalf("SET k%d: %v", i, err)
		}
	}
	// WAIT on every master, so that the replicas hold the keys.
	if err := c.ForEachMaster(ctx, func(ctx context.Context, m *redis.Client) error {
		return m.Do(ctx, "WAIT", 1, 5000).Err()
	}); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	replica := cl.KillMaster(0)
	cl.WaitPromoted(replica, 20*time.Second)
	t.Logf("replica promoted %s after the kill", time.Since(start).Round(time.Millisecond))
	for i := range 100 {
		k := fmt.Sprintf("k%d", i)
		v, err := c.Get(ctx, k).Int()
		// The client learns the new slot map asynchronously.
		for deadline := time.Now().Add(5 * time.Second); err != nil && time.Now().Before(deadline); {
			c.ReloadState(ctx)
			time.Sleep(100 * time.Millisecond)
			v, err = c.Get(ctx, k).Int()
		}
		if err != nil || v != i {
			t.Fatalf("after the failover GET %s = %d, %v", k, v, err)
		}
	}
}
