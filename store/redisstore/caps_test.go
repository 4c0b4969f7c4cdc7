package redisstore_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/dncgate/dncgate/caps"
	"github.com/dncgate/dncgate/internal/testredis"
	"github.com/dncgate/dncgate/store/redisstore"
	"github.com/dncgate/dncgate/store/storetest"
)

// capsOn returns an open function handing out stores on one server (or
// cluster), each with its own prefix.
func capsOn(o redisstore.Options) func(t *testing.T) caps.Store {
	return func(t *testing.T) caps.Store {
		o := o
		o.Prefix = fmt.Sprintf("t%d:", prefixes.Add(1))
		return openStore(t, o)
	}
}

func TestCapsContractSingleNode(t *testing.T) {
	storetest.RunCaps(t, capsOn(redisstore.Options{URL: "redis://" + testredis.Start(t)}))
}

func TestCapsContractCluster(t *testing.T) {
	storetest.RunCaps(t, capsOn(redisstore.Options{ClusterAddrs: testredis.StartCluster(t, 3)}))
}

var (
	capEpoch = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	capSlot  = caps.Slot{Key: "k", ID: "m", Window: time.Hour, Hold: time.Minute}
)

// TestCapsScriptsReloadAfterFlush: after SCRIPT FLUSH (or a restart) the
// first calls fall back to EVAL and succeed.
func TestCapsScriptsReloadAfterFlush(t *testing.T) {
	addr := testredis.Start(t)
	s := openStore(t, redisstore.Options{URL: "redis://" + addr})
	ctx := t.Context()
	raw := redis.NewClient(&redis.Options{Addr: addr})
	defer raw.Close()
	for i := range 3 {
		if err := raw.ScriptFlush(ctx).Err(); err != nil {
			t.Fatal(err)
		}
		sl := capSlot
		sl.ID = fmt.Sprint(i)
		res, err := s.Reserve(ctx, []caps.Request{{Slot: sl, Limit: 5}}, capEpoch)
		if err != nil || !res[0].OK || res[0].Count != i+1 {
			t.Fatalf("Reserve after SCRIPT FLUSH = %+v, %v", res, err)
		}
		if err := raw.ScriptFlush(ctx).Err(); err != nil {
			t.Fatal(err)
		}
		if err := s.Commit(ctx, []caps.Slot{sl}, capEpoch); err != nil {
			t.Fatalf("Commit after SCRIPT FLUSH: %v", err)
		}
	}
}

// TestCapsKeysLayout: a cap is one sorted set, hash-tagged, naming
// digests only, with a TTL of window+hold so an idle key vanishes; a hold
// scores minus its expiry, a send its time.
func TestCapsKeysLayout(t *testing.T) {
	addr := testredis.Start(t)
	s := openStore(t, redisstore.Options{URL: "redis://" + addr, Prefix: "p:"})
	ctx := t.Context()
	if _, err := s.Reserve(ctx, []caps.Request{{Slot: capSlot, Limit: 1}}, capEpoch); err != nil {
		t.Fatal(err)
	}
	raw := redis.NewClient(&redis.Options{Addr: addr})
	defer raw.Close()
	wantTTL := capSlot.Window + capSlot.Hold
	checkTTL(t, raw, "p:cap:{k}", wantTTL)
	wantScore(t, raw, "p:cap:{k}", capSlot.ID, -float64(capEpoch.Add(capSlot.Hold).UnixMilli()))
	if err := s.Commit(ctx, []caps.Slot{capSlot}, capEpoch); err != nil {
		t.Fatal(err)
	}
	checkTTL(t, raw, "p:cap:{k}", wantTTL)
	wantScore(t, raw, "p:cap:{k}", capSlot.ID, float64(capEpoch.UnixMilli()))
	if keys := raw.Keys(ctx, "*").Val(); len(keys) != 1 || keys[0] != "p:cap:{k}" {
		t.Fatalf("keys after commit = %q, want one", keys)
	}
	// A release after the commit leaves the send.
	if err := s.Release(ctx, []caps.Slot{capSlot}); err != nil {
		t.Fatal(err)
	}
	wantScore(t, raw, "p:cap:{k}", capSlot.ID, float64(capEpoch.UnixMilli()))
	if err := s.Reset(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	if n := raw.DBSize(ctx).Val(); n != 0 {
		t.Fatalf("%d keys left after Reset", n)
	}
}

func wantScore(t *testing.T, raw *redis.Client, key, member string, want float64) {
	t.Helper()
	if got, err := raw.ZScore(context.Background(), key, member).Result(); err != nil || got != want {
		t.Fatalf("ZSCORE %s %s = %v (%v), want %v", key, member, got, err, want)
	}
}

func checkTTL(t *testing.T, raw *redis.Client, key string, want time.Duration) {
	t.Helper()
	ttl, err := raw.PTTL(context.Background(), key).Result()
	if err != nil || ttl <= want-time.Minute || ttl > want {
		t.Fatalf("PTTL %s = %s (%v), want about %s", key, ttl, err, want)
	}
}

// TestCapsStoreDownIsAnError: with Redis gone, Reserve fails rather than
// granting.
func TestCapsStoreDownIsAnError(t *testing.T) {
	s := openStore(t, redisstore.Options{URL: "redis://" + testredis.Start(t)})
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if res, err := s.Reserve(ctx, []caps.Request{{Slot: capSlot, Limit: 1}}, capEpoch); err == nil {
		t.Fatalf("Reserve on a closed client = %+v, want an error", res)
	}
}

// TestCapsOneCommandPerRecipient: on a single node, a recipient's caps
// take one script call, granted or refused, with nothing to give back.
func TestCapsOneCommandPerRecipient(t *testing.T) {
	addr := testredis.Start(t)
	s := openStore(t, redisstore.Options{URL: "redis://" + addr})
	ctx := t.Context()
	raw := redis.NewClient(&redis.Options{Addr: addr})
	defer raw.Close()
	req := func(key, id string, limit int) caps.Request {
		sl := capSlot
		sl.Key, sl.ID = key, id
		return caps.Request{Slot: sl, Limit: limit}
	}
	if _, err := s.Reserve(ctx, []caps.Request{req("full", "x", 1)}, capEpoch); err != nil {
		t.Fatal(err)
	}
	if err := raw.ConfigResetStat(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	res, err := s.Reserve(ctx, []caps.Request{req("a", "m", 5), req("b", "m", 5), req("full", "m", 1)}, capEpoch)
	if err != nil || res[2].OK {
		t.Fatalf("Reserve = %+v, %v; want the last refused", res, err)
	}
	stats := raw.Info(ctx, "commandstats").Val()
	for _, want := range []string{"cmdstat_evalsha:calls=1,"} {
		if !strings.Contains(stats, want) {
			t.Errorf("commandstats lack %q:\n%s", want, stats)
		}
	}
	for _, unwanted := range []string{"cmdstat_zrem:", "cmdstat_zadd:"} {
		if strings.Contains(stats, unwanted) {
			t.Errorf("a refused reservation wrote (%s):\n%s", unwanted, stats)
		}
	}
}

// TestCapsOneCommandPerCommit: on a single node, committing the caps of
// every recipient of a message, or releasing them, is one script call.
func TestCapsOneCommandPerCommit(t *testing.T) {
	addr := testredis.Start(t)
	s := openStore(t, redisstore.Options{URL: "redis://" + addr})
	ctx := t.Context()
	raw := redis.NewClient(&redis.Options{Addr: addr})
	defer raw.Close()
	var slots []caps.Slot
	for i := range 9 {
		sl := capSlot
		sl.Key, sl.ID = fmt.Sprint("k", i), fmt.Sprint("m", i%3)
		slots = append(slots, sl)
	}
	for _, op := range []func() error{
		func() error { return s.Commit(ctx, slots, capEpoch) },
		func() error { return s.Release(ctx, slots) },
	} {
		if err := raw.ConfigResetStat(ctx).Err(); err != nil {
			t.Fatal(err)
		}
		if err := op(); err != nil {
			t.Fatal(err)
		}
		if stats := raw.Info(ctx, "commandstats").Val(); !strings.Contains(stats, "cmdstat_evalsha:calls=1,") {
			t.Errorf("commandstats lack one EVALSHA:\n%s", stats)
		}
	}
	for _, sl := range slots {
		if u, err := s.Usage(ctx, sl.Key, 1, sl.Window, capEpoch); err != nil || u.Count != 1 {
			t.Fatalf("usage of %s after commit and release = %+v, %v; want the send", sl.Key, u, err)
		}
	}
}
