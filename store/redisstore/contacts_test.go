package redisstore_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/dncgate/dncgate/contactdb"
	"github.com/dncgate/dncgate/internal/testredis"
	"github.com/dncgate/dncgate/store/redisstore"
	"github.com/dncgate/dncgate/store/storetest"
)

// contactsOn hands out contact stores on one server (or cluster), each
// with its own prefix.
func contactsOn(o redisstore.Options) func(t *testing.T) contactdb.Store {
	return func(t *testing.T) contactdb.Store {
		o := o
		o.Prefix = fmt.Sprintf("t%d:", prefixes.Add(1))
		return openStore(t, o).Contacts()
	}
}

func TestContactsContractSingleNode(t *testing.T) {
	storetest.RunContacts(t, contactsOn(redisstore.Options{URL: "redis://" + testredis.Start(t)}))
}

func TestContactsContractCluster(t *testing.T) {
	storetest.RunContacts(t, contactsOn(redisstore.Options{ClusterAddrs: testredis.StartCluster(t, 3)}))
}

// TestContactsTwoProcesses: a gateway's handle that cached the current
// version sees an import committed through another handle at once, and
// nothing of the old version or the imports that never committed stays
// in Redis.
func TestContactsTwoProcesses(t *testing.T) {
	addr := testredis.Start(t)
	raw := redis.NewClient(&redis.Options{Addr: addr})
	t.Cleanup(func() { raw.Close() })
	o := redisstore.Options{URL: "redis://" + addr, Prefix: "two:"}
	admin, server := openStore(t, o).Contacts(), openStore(t, o).Contacts()
	ctx := t.Context()
	old, now := storetest.ContactRecords("a", 200, 0), storetest.ContactRecords("a", 200, 1)
	importAll(t, admin, old)
	if got, ok, err := server.Contact(ctx, old[5].Email); err != nil || !ok || got.Type != old[5].Type {
		t.Fatalf("server's first lookup = %+v, %v, %v", got, ok, err)
	}
	left, err := admin.BeginImport(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := left.Add(ctx, storetest.ContactRecords("left", 500, 0)); err != nil {
		t.Fatal(err)
	}
	importAll(t, admin, now)
	for _, i := range []int{5, 6, 199} {
		got, ok, err := server.Contact(ctx, old[i].Email)
		if err != nil || !ok || got.Country != now[i].Country || got.Type != now[i].Type || len(got.Phones) != len(now[i].Phones) {
			t.Fatalf("after the switch the server reads record %d as %+v, %v, %v; want %+v", i, got, ok, err, now[i].Contact)
		}
	}
	keys, err := raw.Keys(ctx, "two:ce:*").Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		if !strings.HasPrefix(k, "two:ce:{3:") {
			t.Fatalf("bucket %s left behind: only version 3's should remain", k)
		}
	}
	if fields := raw.HKeys(ctx, "two:ct:{contacts}").Val(); len(fields) != 3 {
		t.Fatalf("head fields %q, want cur, ver, seq", fields)
	}
}

func importAll(t *testing.T, s contactdb.Store, recs []contactdb.Record) {
	t.Helper()
	w, err := s.BeginImport(t.Context(), 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Add(t.Context(), recs); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Commit(t.Context(), contactdb.Version{}); err != nil {
		t.Fatal(err)
	}
}

// BenchmarkContacts imports DNCGATE_BENCH_CONTACTS records (default
// 200,000) on one node, reports server memory per record, then times
// lookups one at a time beside PING, the floor of one round trip.
// go test -run - -bench Contacts -benchtime 3x ./store/redisstore
func BenchmarkContacts(b *testing.B) {
	addr := testredis.Start(b)
	raw := redis.NewClient(&redis.Options{Addr: addr})
	b.Cleanup(func() { raw.Close() })
	before := usedMemory(b, raw)
	s := openStore(b, redisstore.Options{URL: "redis://" + addr}).Contacts()
	recs := storetest.BenchContactsImport(b, s)
	b.StopTimer()
	b.ReportMetric(float64(usedMemory(b, raw)-before)/float64(len(recs)), "B/record")
	const n = 10000
	ctx := b.Context()
	lookup := timeEach(n, func(i int) error {
		_, ok, err := s.Contact(ctx, recs[i*7919%len(recs)].Email)
		if err == nil && !ok {
			err = fmt.Errorf("record %d not found", i*7919%len(recs))
		}
		return err
	})
	ping := timeEach(n, func(int) error { return raw.Ping(ctx).Err() })
	for _, m := range []struct {
		name string
		lat  []time.Duration
	}{{"lookup", lookup}, {"ping", ping}} {
		if m.lat == nil {
			b.Fatalf("%s failed", m.name)
		}
		b.ReportMetric(float64(m.lat[n/2].Microseconds()), m.name+"-p50-µs")
		b.ReportMetric(float64(m.lat[n*99/100].Microseconds()), m.name+"-p99-µs")
	}
}

// timeEach runs f n times and returns the sorted durations, nil when f
// fails.
func timeEach(n int, f func(i int) error) []time.Duration {
	lat := make([]time.Duration, n)
	for i := range lat {
		start := time.Now()
		if err := f(i); err != nil {
			return nil
		}
		lat[i] = time.Since(start)
	}
	slices.Sort(lat)
	return lat
}
