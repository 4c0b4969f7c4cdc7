package redisstore_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/dncgate/dncgate/internal/testredis"
	"github.com/dncgate/dncgate/store"
	"github.com/dncgate/dncgate/store/redisstore"
	"github.com/dncgate/dncgate/store/storetest"
)

// prefixes gives each opened store its own key space on a shared server.
var prefixes atomic.Int64

func openStore(t testing.TB, o redisstore.Options) *redisstore.Store {
	t.Helper()
	s, err := redisstore.Open(context.Background(), o)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func contract(o redisstore.Options) func(t *testing.T) storetest.Harness {
	return func(t *testing.T) storetest.Harness {
		o := o
		o.Prefix = fmt.Sprintf("t%d:", prefixes.Add(1))
		st := openStore(t, o)
		drop := func(t *testing.T) {
			c := redis.NewUniversalClient(&redis.UniversalOptions{Addrs: addrsOf(o)})
			defer c.Close()
			if err := c.Del(context.Background(), o.Prefix+"identity:{opt-out}").Err(); err != nil {
				t.Fatal(err)
			}
		}
		return storetest.Harness{Store: st, DropIdentity: drop}
	}
}

// addrsOf is where o points, for a client of the test's own.
func addrsOf(o redisstore.Options) []string {
	if len(o.ClusterAddrs) > 0 {
		return o.ClusterAddrs
	}
	return []string{strings.TrimPrefix(o.URL, "redis://")}
}

func TestContractSingleNode(t *testing.T) {
	storetest.Run(t, contract(redisstore.Options{URL: "redis://" + testredis.Start(t)}))
}

func TestContractCluster(t *testing.T) {
	storetest.Run(t, contract(redisstore.Options{ClusterAddrs: testredis.StartCluster(t, 3)}))
}

// freeAddr is a loopback address nothing listens on.
func freeAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

func TestOpenUnreachableNamesAddress(t *testing.T) {
	addr := freeAddr(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, o := range []redisstore.Options{
		{URL: "redis://" + addr},
		{ClusterAddrs: []string{addr}},
	} {
		_, err := redisstore.Open(ctx, o)
		if err == nil || !strings.Contains(err.Error(), addr) {
			t.Errorf("Open(%+v) = %v, want an error naming %s", o, err, addr)
		}
	}
}

func TestOpenRejectsBadOptions(t *testing.T) {
	ctx := context.Background()
	for name, o := range map[string]redisstore.Options{
		"neither":  {},
		"both":     {URL: "redis://127.0.0.1:1", ClusterAddrs: []string{"127.0.0.1:2"}},
		"scheme":   {URL: "http://127.0.0.1:1"},
		"bad port": {URL: "redis://u:s3cret@127.0.0.1:notaport"},
	} {
		_, err := redisstore.Open(ctx, o)
		if err == nil {
			t.Errorf("%s: Open succeeded", name)
			continue
		}
		if strings.Contains(err.Error(), "s3cret") {
			t.Errorf("%s: error %q leaks the password", name, err)
		}
	}
}

func TestURLSelectsDatabase(t *testing.T) {
	addr := testredis.Start(t)
	s := openStore(t, redisstore.Options{URL: "redis://" + addr + "/3"})
	if _, err := s.Hit(context.Background(), "k", time.Hour); err != nil {
		t.Fatal(err)
	}
	raw := redis.NewClient(&redis.Options{Addr: addr, DB: 3})
	defer raw.Close()
	if n, err := raw.DBSize(context.Background()).Result(); err != nil || n != 1 {
		t.Fatalf("DB 3 holds %d keys (%v), want the counter", n, err)
	}
}

func TestCredentials(t *testing.T) {
	addr := testredis.Start(t)
	ctx := context.Background()
	raw := redis.NewClient(&redis.Options{Addr: addr})
	defer raw.Close()
	if err := raw.Do(ctx, "ACL", "SETUSER", "gw", "on", ">gwpass", "~*", "+@all").Err(); err != nil {
		t.Fatal(err)
	}
	if err := raw.ConfigSet(ctx, "requirepass", "defpass").Err(); err != nil {
		t.Fatal(err)
	}
	if _, err := redisstore.Open(ctx, redisstore.Options{URL: "redis://" + addr}); err == nil {
		t.Fatal("Open without a password succeeded on a server that requires one")
	}
	for name, o := range map[string]redisstore.Options{
		"password in URL":  {URL: "redis://:defpass@" + addr},
		"password option":  {URL: "redis://" + addr, Password: "defpass"},
		"user in URL":      {URL: "redis://gw:gwpass@" + addr},
		"user options":     {URL: "redis://" + addr, Username: "gw", Password: "gwpass"},
		"options beat URL": {URL: "redis://gw:wrong@" + addr, Password: "gwpass"},
	} {
		s, err := redisstore.Open(ctx, o)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		s.Close()
	}
}

func TestDefaultPrefixAndLayout(t *testing.T) {
	addr := testredis.Start(t)
	s := openStore(t, redisstore.Options{URL: "redis://" + addr})
	ctx := context.Background()
	if err := s.AddUser(ctx, store.User{Email: "A@x.fr", Role: store.RoleRep}); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkDelivered(ctx, "m", "r", time.Hour); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Hit(ctx, "k", time.Hour); err != nil {
		t.Fatal(err)
	}
	raw := redis.NewClient(&redis.Options{Addr: addr})
	defer raw.Close()
	keys, err := raw.Keys(ctx, "*").Result()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{
		"dncgate:{users}": true, "dncgate:{users}:a@x.fr": true,
		"dncgate:dlv:{m}": true, "dncgate:cnt:{k}": true,
	}
	if len(keys) != len(want) {
		t.Fatalf("keys %q, want %d keys", keys, len(want))
	}
	for _, k := range keys {
		if !want[k] {
			t.Fatalf("unexpected key %q among %q", k, keys)
		}
	}
	for _, k := range []string{"dncgate:dlv:{m}", "dncgate:cnt:{k}"} {
		if ttl := raw.PTTL(ctx, k).Val(); ttl <= 0 || ttl > time.Hour {
			t.Errorf("PTTL %s = %v, want within the hour given", k, ttl)
		}
	}
}

// TestWindowStartsAtFirstHit is the Redis side of the contract's fixed
// window check: the first hit's window sets the TTL and later hits leave
// it alone.
func TestWindowStartsAtFirstHit(t *testing.T) {
	addr := testredis.Start(t)
	s := openStore(t, redisstore.Options{URL: "redis://" + addr, Prefix: "p:"})
	ctx := context.Background()
	if _, err := s.Hit(ctx, "k", 10*time.Second); err != nil {
		t.Fatal(err)
	}
	if n, err := s.Hit(ctx, "k", time.Hour); err != nil || n != 2 {
		t.Fatalf("second Hit = %d, %v", n, err)
	}
	raw := redis.NewClient(&redis.Options{Addr: addr})
	defer raw.Close()
	if ttl := raw.PTTL(ctx, "p:cnt:{k}").Val(); ttl <= 0 || ttl > 10*time.Second {
		t.Fatalf("PTTL after a second hit = %v, want the first hit's 10s window", ttl)
	}
}

func TestStoreReportsRedisDown(t *testing.T) {
	addr := testredis.Start(t)
	s := openStore(t, redisstore.Options{URL: "redis://" + addr})
	raw := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1})
	defer raw.Close()
	_ = raw.Do(context.Background(), "SHUTDOWN", "NOSAVE").Err() // the outage
	// Short deadlines, as the relay uses: the client's own retries would
	// otherwise take a couple of seconds per call.
	for name, call := range map[string]func(context.Context) error{
		"Ping":      s.Ping,
		"Delivered": func(ctx context.Context) error { _, err := s.Delivered(ctx, "m"); return err },
		"User":      func(ctx context.Context) error { _, err := s.User(ctx, "a@x.fr"); return err },
		"Count":     func(ctx context.Context) error { _, err := s.Count(ctx, "k"); return err },
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		err := call(ctx)
		cancel()
		if err == nil || errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s with Redis down = %v, want an error that is not ErrNotFound", name, err)
		}
	}
}

func BenchmarkRedisDelivery(b *testing.B) {
	s := openStore(b, redisstore.Options{URL: "redis://" + testredis.Start(b)})
	ctx := context.Background()
	i := 0
	for b.Loop() {
		msg := "msg-" + strconv.Itoa(i)
		i++
		if _, err := s.Delivered(ctx, msg); err != nil {
			b.Fatal(err)
		}
		if err := s.MarkDelivered(ctx, msg, "rcpt", 72*time.Hour); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRedisDeliveryParallel(b *testing.B) {
	s := openStore(b, redisstore.Options{URL: "redis://" + testredis.Start(b)})
	ctx := context.Background()
	var seq atomic.Int64
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			msg := "msg-" + strconv.FormatInt(seq.Add(1), 10)
			if _, err := s.Delivered(ctx, msg); err != nil {
				b.Error(err)
				return
			}
			if err := s.MarkDelivered(ctx, msg, "rcpt", 72*time.Hour); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// TestUserWrittenBeforeDisabledFields: a user hash as earlier versions
// wrote it, without the disabled and last-login fields, reads as enabled
// and never logged in.
func TestUserWrittenBeforeDisabledFields(t *testing.T) {
	addr := testredis.Start(t)
	s := openStore(t, redisstore.Options{URL: "redis://" + addr})
	ctx := context.Background()
	raw := redis.NewClient(&redis.Options{Addr: addr})
	defer raw.Close()
	if err := raw.HSet(ctx, "dncgate:{users}:old@x.fr", "role", "admin", "send_as", `["old@x.fr"]`, "pw", "$2",
		"created", "1000", "updated", "2000").Err(); err != nil {
		t.Fatal(err)
	}
	raw.SAdd(ctx, "dncgate:{users}", "old@x.fr")
	u, err := s.User(ctx, "old@x.fr")
	if err != nil || u.Role != store.RoleAdmin || u.Disabled || !u.DisabledAt.IsZero() || !u.LastLogin.IsZero() || u.CreatedAt.UnixNano() != 1000 {
		t.Fatalf("old user = %+v, %v", u, err)
	}
	if err := s.RecordLogin(ctx, "old@x.fr", time.Unix(5, 0)); err != nil {
		t.Fatal(err)
	}
	if u, err := s.User(ctx, "old@x.fr"); err != nil || !u.LastLogin.Equal(time.Unix(5, 0)) || string(u.PasswordHash) != "$2" {
		t.Fatalf("old user after a login = %+v, %v", u, err)
	}
}
