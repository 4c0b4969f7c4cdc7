package caps_test

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/dncgate/dncgate/caps"
	"github.com/dncgate/dncgate/internal/testredis"
	"github.com/dncgate/dncgate/store/redisstore"
)

// benchConcurrency are the numbers of goroutines checking at once: one
// session, a busy gateway, and more than the client's pool of 20
// connections (go-redis: 10 per CPU here).
var benchConcurrency = []int{1, 8, 32}

// benchRules are three caps with limits no run reaches, so every check is
// the full path: reserve three slots, then commit them.
func benchRules() []caps.Rule {
	return []caps.Rule{
		{Name: "recipient-30d", Scope: caps.ScopeRecipient, Limit: 1 << 30, Window: 720 * time.Hour},
		{Name: "domain-day", Scope: caps.ScopeRecipientDomain, Limit: 1 << 30, Window: 24 * time.Hour},
		{Name: "rep-day", Scope: caps.ScopeRep, Limit: 1 << 30, Window: 24 * time.Hour},
	}
}

// BenchmarkCapCheck measures one recipient's cap check with 3 caps on
// Redis (reserve, then commit, as for a delivered recipient: two round
// trips), beside two floors measured in the same run with a client of the
// same settings and the same concurrency: a bare PING and a bare EVALSHA
// of an empty script (one round trip each).
//
//	go test ./caps -run '^$' -bench CapCheck -benchtime 20000x
func BenchmarkCapCheck(b *testing.B) {
	addr := testredis.Start(b)
	for _, conc := range benchConcurrency {
		b.Run(fmt.Sprintf("conc=%d", conc), func(b *testing.B) {
			st, err := redisstore.Open(b.Context(), redisstore.Options{URL: "redis://" + addr})
			if err != nil {
				b.Fatal(err)
			}
			defer st.Close()
			raw := redis.NewClient(&redis.Options{Addr: addr})
			defer raw.Close()
			benchAgainstFloors(b, conc, st, raw)
		})
	}
}

// BenchmarkCapCheckEmbedded is the same check on the embedded store, for
// comparison (one transaction per reserve and per commit).
func BenchmarkCapCheckEmbedded(b *testing.B) {
	for _, conc := range benchConcurrency {
		b.Run(fmt.Sprintf("conc=%d", conc), func(b *testing.B) {
			st := openEmbedded(b, filepath.Join(b.TempDir(), "dncgate.db"))
			c := benchChecker(b, st)
			b.ResetTimer()
			lat, elapsed := load(b.N, conc, checkOnce(b, c))
			b.StopTimer()
			report(b, "", lat, elapsed)
		})
	}
}

func benchChecker(b *testing.B, st caps.Store) *caps.Checker {
	c, err := caps.New(benchRules(), st, testKey, caps.Options{})
	if err != nil {
		b.Fatal(err)
	}
	return c
}

// benchRounds interleaves the checks and the floors, so that all three
// meet the same machine: on a small VM the round trip time swings with
// how busy the CPUs have just been.
const benchRounds = 5

func benchAgainstFloors(b *testing.B, conc int, st caps.Store, raw *redis.Client) {
	ctx := context.Background()
	empty := redis.NewScript("return 0")
	if err := empty.Load(ctx, raw).Err(); err != nil {
		b.Fatal(err)
	}
	c := benchChecker(b, st)
	check := checkOnce(b, c)
	loads := []struct {
		prefix string
		op     func(i int) error
	}{
		{"", check},
		{"ping-", func(int) error { return raw.Ping(ctx).Err() }},
		{"evalsha-", func(int) error { return empty.EvalSha(ctx, raw, nil).Err() }},
	}
	lat := make([][]time.Duration, len(loads))
	elapsed := make([]time.Duration, len(loads))
	b.ResetTimer()
	for r := range benchRounds {
		// Round r runs operations [lo, hi) of each load.
		lo, hi := b.N*r/benchRounds, b.N*(r+1)/benchRounds
		for k, l := range loads {
			got, took := load(hi-lo, conc, func(i int) error { return l.op(lo + i) })
			lat[k], elapsed[k] = append(lat[k], got...), elapsed[k]+took
		}
	}
	b.StopTimer()
	for k, l := range loads {
		report(b, l.prefix, lat[k], elapsed[k])
	}
}

// checkOnce returns the checked operation: one recipient of a new
// message, spread over 1000 recipients, 100 domains and 10 reps.
func checkOnce(b *testing.B, c *caps.Checker) func(i int) error {
	ctx := context.Background()
	now := time.Date(2026, 11, 3, 14, 0, 0, 0, time.UTC)
	return func(i int) error {
		rcpt := fmt.Sprintf("p%d@d%d.example", i%1000, i%100)
		tk, ref, err := c.Reserve(ctx, fmt.Sprintf("rep%d@gw.example", i%10), rcpt, "FR", fmt.Sprint("m", i), now)
		if err != nil {
			return err
		}
		if ref != nil {
			b.Fatalf("check %d refused: %s", i, ref.Text())
		}
		return tk.Commit(ctx, now)
	}
}

// load runs op n times over conc goroutines and returns every call's
// latency and the wall time of the whole run. It panics on an error, which
// in a benchmark means the set-up is broken.
func load(n, conc int, op func(i int) error) ([]time.Duration, time.Duration) {
	var next atomic.Int64
	per := make([][]time.Duration, conc)
	var wg sync.WaitGroup
	start := time.Now()
	for w := range conc {
		wg.Go(func() {
			for i := int(next.Add(1)) - 1; i < n; i = int(next.Add(1)) - 1 {
				t := time.Now()
				if err := op(i); err != nil {
					panic(fmt.Sprintf("benchmark operation %d: %v", i, err))
				}
				per[w] = append(per[w], time.Since(t))
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	return slices.Concat(per...), elapsed
}

// report adds throughput and latency percentiles under the given prefix:
// checks/s, p50-µs, p99-µs for the checks, ping-ops/s, … for a floor.
func report(b *testing.B, prefix string, lat []time.Duration, elapsed time.Duration) {
	if len(lat) == 0 || elapsed <= 0 {
		return
	}
	slices.Sort(lat)
	pct := func(p float64) float64 {
		return float64(lat[int(p*float64(len(lat)-1))].Nanoseconds()) / 1e3
	}
	unit := "checks/s"
	if prefix != "" {
		unit = prefix + "ops/s"
	}
	b.ReportMetric(float64(len(lat))/elapsed.Seconds(), unit)
	b.ReportMetric(pct(0.50), prefix+"p50-µs")
	b.ReportMetric(pct(0.99), prefix+"p99-µs")
}
