package redisstore_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/dncgate/dncgate/internal/testredis"
	"github.com/dncgate/dncgate/listdb"
	"github.com/dncgate/dncgate/store/redisstore"
	"github.com/dncgate/dncgate/store/storetest"
)

// listsOn returns an open function handing out stores on one server (or
// cluster), each with its own prefix, and a count of their entries read
// straight from the servers.
func listsOn(o redisstore.Options, raw redis.UniversalClient) func(t *testing.T) storetest.ListHarness {
	return func(t *testing.T) storetest.ListHarness {
		o := o
		o.Prefix = fmt.Sprintf("t%d:", prefixes.Add(1))
		prefix := o.Prefix
		return storetest.ListHarness{Store: openStore(t, o), Stored: func(t *testing.T) int64 {
			return countEntries(t, raw, prefix)
		}, Reopen: func(t *testing.T) listdb.Store { return openStore(t, o) }}
	}
}

// countEntries sums the fields of every bucket under prefix, less the
// bucket's own mark (the empty field).
func countEntries(t *testing.T, c redis.UniversalClient, prefix string) int64 {
	t.Helper()
	var total int64
	count := func(ctx context.Context, node *redis.Client) error {
		iter := node.Scan(ctx, 0, prefix+"le:*", 1000).Iterator()
		for iter.Next(ctx) {
			n, err := node.HLen(ctx, iter.Val()).Result()
			if err != nil {
				return err
			}
			if node.HExists(ctx, iter.Val(), "").Val() {
				n--
			}
			total += n // nodes are visited one at a time below
		}
		return iter.Err()
	}
	var err error
	switch c := c.(type) {
	case *redis.ClusterClient:
		for _, addr := range c.Options().Addrs {
			node := redis.NewClient(&redis.Options{Addr: addr})
			err = count(t.Context(), node)
			node.Close()
			if err != nil {
				break
			}
		}
	case *redis.Client:
		err = count(t.Context(), c)
	}
	if err != nil {
		t.Fatalf("counting entries: %v", err)
	}
	return total
}

func TestListsContractSingleNode(t *testing.T) {
	addr := testredis.Start(t)
	raw := redis.NewClient(&redis.Options{Addr: addr})
	t.Cleanup(func() { raw.Close() })
	storetest.RunLists(t, listsOn(redisstore.Options{URL: "redis://" + addr}, raw))
}

func TestListsContractCluster(t *testing.T) {
	addrs := testredis.StartCluster(t, 3)
	raw := redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs})
	t.Cleanup(func() { raw.Close() })
	storetest.RunLists(t, listsOn(redisstore.Options{ClusterAddrs: addrs}, raw))
}

// usedMemory reads used_memory from INFO memory.
func usedMemory(b *testing.B, c *redis.Client) int64 {
	info, err := c.Info(b.Context(), "memory").Result()
	if err != nil {
		b.Fatal(err)
	}
	for line := range strings.SplitSeq(info, "\r\n") {
		if v, ok := strings.CutPrefix(line, "used_memory:"); ok {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				b.Fatal(err)
			}
			return n
		}
	}
	b.Fatal("no used_memory in INFO memory")
	return 0
}

// BenchmarkListImport imports 1M digests on one node and reports what the
// current version costs in server memory.
// go test -run - -bench ListImport -benchtime 3x ./store/redisstore
func BenchmarkListImport(b *testing.B) {
	addr := testredis.Start(b)
	raw := redis.NewClient(&redis.Options{Addr: addr})
	b.Cleanup(func() { raw.Close() })
	before := usedMemory(b, raw)
	s := openStore(b, redisstore.Options{URL: "redis://" + addr})
	storetest.BenchImport(b, s, "bench", func(b *testing.B) {
		b.ReportMetric(float64(usedMemory(b, raw)-before)/storetest.BenchEntries, "B/entry")
	})
}

// TestListsDeletedVersionNotAnswered: a reader that finds the buckets of
// the version it read gone (deleted after a switch it did not see) does
// not take their absence for "not on the list".
func TestListsDeletedVersionNotAnswered(t *testing.T) {
	addr := testredis.Start(t)
	raw := redis.NewClient(&redis.Options{Addr: addr})
	t.Cleanup(func() { raw.Close() })
	s := openStore(t, redisstore.Options{URL: "redis://" + addr, Prefix: "del:"})
	ctx := t.Context()
	if err := s.PutList(ctx, listdb.Meta{Name: "l"}); err != nil {
		t.Fatal(err)
	}
	ds := storetest.RandomDigests(100)
	w, err := s.BeginVersion(ctx, "l", 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Add(ctx, ds); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Commit(ctx, listdb.Version{}); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Contains(ctx, "l", ds[0]); err != nil || !got[0] {
		t.Fatalf("Contains before the deletion = %v, %v", got, err)
	}
	buckets, err := raw.Keys(ctx, "del:le:*").Result()
	if err != nil || len(buckets) == 0 {
		t.Fatalf("no buckets found: %v", err)
	}
	if err := raw.Del(ctx, buckets...).Err(); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Contains(ctx, "l", ds[0]); err == nil {
		t.Fatalf("Contains over deleted buckets = %v with no error", got)
	}
}

// countHook counts round trips: a command alone or a whole pipeline.
type countHook struct{ n atomic.Int64 }

func (h *countHook) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h *countHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		h.n.Add(1)
		return next(ctx, cmd)
	}
}

func (h *countHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		h.n.Add(1)
		return next(ctx, cmds)
	}
}

// BenchmarkLookup measures a recipient's check of 5 lists on one node,
// beside a bare PING.
// DNCGATE_BENCH_ENTRIES=200000 go test -run - -bench Lookup ./store/redisstore
func BenchmarkLookup(b *testing.B) {
	s := openStore(b, redisstore.Options{URL: "redis://" + testredis.Start(b)})
	var hook countHook
	s.AddHook(&hook)
	storetest.BenchLookup(b, s, storetest.LookupBench{Ping: s.Ping, RoundTrips: hook.n.Load})
}

// BenchmarkLookupCluster is BenchmarkLookup on a 3-master cluster, where
// the hook counts each pipeline once, whatever the nodes it goes to.
// go test -run - -bench LookupCluster ./store/redisstore
func BenchmarkLookupCluster(b *testing.B) {
	s := openStore(b, redisstore.Options{ClusterAddrs: testredis.StartCluster(b, 3)})
	var hook countHook
	s.AddHook(&hook)
	storetest.BenchLookup(b, s, storetest.LookupBench{Ping: s.Ping, RoundTrips: hook.n.Load})
}

// TestLookupOneRoundTrip: once this process knows the lists' versions, a
// Lookup of several lists is one pipeline, also right after a manual
// change; a new version costs one more for its list. On a cluster the
// pipeline goes to every node at once.
func TestLookupOneRoundTrip(t *testing.T) {
	t.Run("SingleNode", func(t *testing.T) {
		testLookupOneRoundTrip(t, redisstore.Options{URL: "redis://" + testredis.Start(t)})
	})
	t.Run("Cluster", func(t *testing.T) {
		testLookupOneRoundTrip(t, redisstore.Options{ClusterAddrs: testredis.StartCluster(t, 3)})
	})
}

func testLookupOneRoundTrip(t *testing.T, o redisstore.Options) {
	s := openStore(t, o)
	var hook countHook
	s.AddHook(&hook)
	ctx := t.Context()
	ds := storetest.RandomDigests(30)
	var probes []listdb.Probe
	for i := range 5 {
		name := fmt.Sprintf("l%d", i)
		if err := s.PutList(ctx, listdb.Meta{Name: name}); err != nil {
			t.Fatal(err)
		}
		importDigests(t, s, name, ds[i*5:i*5+5])
		probes = append(probes, listdb.Probe{List: name, Digests: []listdb.Digest{ds[i*5], ds[25+i]}})
	}
	lookup := func(wantTrips int64) {
		t.Helper()
		before := hook.n.Load()
		got, err := s.Lookup(ctx, probes)
		if err != nil {
			t.Fatal(err)
		}
		for i, a := range got {
			if !a.Found[0] || a.Found[1] {
				t.Fatalf("probe %d = %+v; want the first digest only", i, a)
			}
		}
		if n := hook.n.Load() - before; n != wantTrips {
			t.Fatalf("Lookup took %d round trips, want %d", n, wantTrips)
		}
	}
	lookup(2) // the versions are new to this process
	lookup(1)
	if err := s.RemoveEntry(ctx, "l0", ds[25]); err != nil {
		t.Fatal(err)
	}
	lookup(1)
	importDigests(t, s, "l3", ds[15:20])
	lookup(2)
	lookup(1)
}

// importDigests imports ds as the list's new version.
func importDigests(t *testing.T, s *redisstore.Store, name string, ds []listdb.Digest) {
	t.Helper()
	w, err := s.BeginVersion(t.Context(), name, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Add(t.Context(), ds); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Commit(t.Context(), listdb.Version{}); err != nil {
		t.Fatal(err)
	}
}
