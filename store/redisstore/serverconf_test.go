package redisstore_test

import (
	"context"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/dncgate/dncgate/internal/testredis"
	"github.com/dncgate/dncgate/store/redisstore"
)

// configSet sets Redis parameters on the node at addr.
func configSet(t *testing.T, addr string, kv ...string) {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: addr})
	defer c.Close()
	for i := 0; i < len(kv); i += 2 {
		if err := c.ConfigSet(context.Background(), kv[i], kv[i+1]).Err(); err != nil {
			t.Fatalf("CONFIG SET %s %q: %v", kv[i], kv[i+1], err)
		}
	}
}

// TestServerWarnings runs each setting on a real redis-server and checks
// the lines the gateway logs at start.
func TestServerWarnings(t *testing.T) {
	addr := testredis.Start(t) // started with save "" and appendonly no
	for _, tc := range []struct {
		name string
		set  []string
		want []string // substrings, one per warning, in order
	}{
		{"no persistence", []string{"appendonly", "no", "save", "", "maxmemory-policy", "noeviction"},
			[]string{"redis " + addr + `: no persistence (appendonly no, save ""): a restart empties the store and the gateways answer 451 until it is restored: set appendonly yes`}},
		{"aof", []string{"appendonly", "yes"}, nil},
		{"rdb only", []string{"appendonly", "no", "save", "3600 1"}, nil},
		{"evicting", []string{"appendonly", "yes", "maxmemory-policy", "allkeys-lru"},
			[]string{"redis " + addr + ": maxmemory-policy is allkeys-lru, which drops keys when memory is full (users, opt-outs, cap counts, delivered marks, the store's identity): set maxmemory-policy noeviction"}},
		{"volatile and no persistence", []string{"appendonly", "no", "save", "", "maxmemory-policy", "volatile-ttl"},
			[]string{"maxmemory-policy is volatile-ttl", "no persistence"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			configSet(t, addr, tc.set...)
			got := openStore(t, redisstore.Options{URL: "redis://" + addr}).ServerWarnings(context.Background())
			wantLines(t, got, tc.want)
		})
	}
}

func wantLines(t *testing.T, got, want []string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("warnings %q, want %d: %q", got, len(want), want)
	}
	for i := range want {
		if !strings.Contains(got[i], want[i]) {
			t.Errorf("warning %d is %q, want it to contain %q", i, got[i], want[i])
		}
	}
}

// TestServerWarningsConfigRefused: a user whose ACL lacks CONFIG gets one
// line saying the check could not run, and the store works all the same.
func TestServerWarningsConfigRefused(t *testing.T) {
	addr := testredis.Start(t)
	c := redis.NewClient(&redis.Options{Addr: addr})
	defer c.Close()
	if err := c.Do(context.Background(), "ACL", "SETUSER", "gw", "on", ">gw-secret-pass", "~*", "+@all", "-config").Err(); err != nil {
		t.Fatal(err)
	}
	st := openStore(t, redisstore.Options{URL: "redis://gw:gw-secret-pass@" + addr})
	got := st.ServerWarnings(context.Background())
	wantLines(t, got, []string{"redis " + addr + ": could not check maxmemory-policy and persistence (NOPERM"})
	if !strings.Contains(got[0], "ACL +config|get") || strings.Contains(got[0], "gw-secret-pass") {
		t.Fatalf("warning %q: want the ACL to grant, and no password", got[0])
	}
	if err := st.Ping(context.Background()); err != nil {
		t.Fatalf("the store after a refused check: %v", err)
	}
}

// TestServerWarningsCluster reads every master: the one with an evicting
// policy is named, the others not.
func TestServerWarningsCluster(t *testing.T) {
	addrs := testredis.StartCluster(t, 3)
	for _, a := range addrs {
		configSet(t, a, "appendonly", "yes")
	}
	configSet(t, addrs[1], "maxmemory-policy", "allkeys-random")
	st := openStore(t, redisstore.Options{ClusterAddrs: addrs})
	settings := st.ServerSettings(context.Background())
	if len(settings) != 3 {
		t.Fatalf("settings of %d nodes, want 3: %+v", len(settings), settings)
	}
	for _, n := range settings {
		if n.Err != nil || !n.AppendOnly {
			t.Fatalf("node %s: %+v, want appendonly read", n.Node, n)
		}
	}
	wantLines(t, st.ServerWarnings(context.Background()), []string{"redis " + addrs[1] + ": maxmemory-policy is allkeys-random"})
}
