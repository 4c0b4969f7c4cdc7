package caps_test

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
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

// BenchmarkCapCheck measures cap checks with 3 caps on one Redis beside
// two floors measured in the same run, with a client of the same settings
// and the same concurrency: a bare PING and a bare EVALSHA of an empty
// script (one round trip each).
//
// A check is one recipient's reserve of its 3 caps then its commit, as for
// a message to one recipient the upstream accepted: checks/s, p50-µs and
// p99-µs (reserve plus commit), rt/check (round trips, counted by a client
// hook), x-evalsha (checks/s over the EVALSHA floor's ops/s) and
// redis-µs/check (the server's CPU time per check, from INFO cpu: on a
// loaded machine a steadier figure than the rates).
//
// msg5- is the same for messages of 5 recipients, whose commits go to the
// store together once the upstream has answered for all of them (as the
// relay does): its latencies are those of each step a client waits on
// (a recipient's reserve, or the message's commit), its checks/s counts
// recipients.
//
// The commit must wait for the upstream's answer, so a one-recipient
// message from a lone session costs two round trips, each at least an
// EVALSHA: x-evalsha stays under 0.5 however cheap the scripts. Under
// concurrency the store merges callers' reserves (and commits) into one
// script run, so rt/check falls below 2; then the scripts' own work in
// Redis, redis-µs/check against the empty script's, is the bound.
//
//	go test ./caps -run '^$' -bench 'CapCheck$' -benchtime 20000x
func BenchmarkCapCheck(b *testing.B) {
	url := "redis://" + testredis.Start(b)
	opt, err := redis.ParseURL(url)
	if err != nil {
		b.Fatal(err)
	}
	for _, conc := range benchConcurrency {
		b.Run(fmt.Sprintf("conc=%d", conc), func(b *testing.B) {
			st, err := redisstore.Open(b.Context(), redisstore.Options{URL: url})
			if err != nil {
				b.Fatal(err)
			}
			defer st.Close()
			rt := new(roundTrips)
			st.AddHook(rt)
			raw := redis.NewClient(opt) // the store's settings
			defer raw.Close()
			benchAgainstFloors(b, conc, benchChecker(b, st), raw, rt)
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
			lat, elapsed := load(b.N, conc, checkOnce(c, "e"))
			b.StopTimer()
			report(b, "", lat, len(lat), elapsed)
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

// benchRounds interleaves the checks and the floors, so that all of them
// meet the same machine: on a small VM the round trip time swings with
// how busy the CPUs have just been.
const benchRounds = 5

// benchLoad is one measured operation: each worker gets its own op, which
// does step i and says how many checks (recipients) the step completed.
type benchLoad struct {
	prefix string
	hooked bool // through the store's client, whose round trips are counted
	worker func() func(i int) (checks int, err error)
}

func benchAgainstFloors(b *testing.B, conc int, c *caps.Checker, raw *redis.Client, rt *roundTrips) {
	ctx := context.Background()
	empty := redis.NewScript("return 0")
	if err := empty.Load(ctx, raw).Err(); err != nil {
		b.Fatal(err)
	}
	same := func(op func(i int) error) func() func(int) (int, error) {
		return func() func(int) (int, error) {
			return func(i int) (int, error) { return 1, op(i) }
		}
	}
	loads := []benchLoad{
		{"", true, same(checkOnce(c, "c"))},
		{"msg5-", true, messages(c, 5)},
		{"ping-", false, same(func(int) error { return raw.Ping(ctx).Err() })},
		{"evalsha-", false, same(func(int) error { return empty.EvalSha(ctx, raw, nil).Err() })},
	}
	lat := make([][]time.Duration, len(loads))
	checks, trips := make([]int, len(loads)), make([]int64, len(loads))
	cpu := make([]time.Duration, len(loads))
	elapsed := make([]time.Duration, len(loads))
	b.ResetTimer()
	for r := range benchRounds {
		// Round r runs steps [lo, hi) of each load.
		lo, hi := b.N*r/benchRounds, b.N*(r+1)/benchRounds
		for k, l := range loads {
			before, cpu0 := rt.n.Load(), serverCPU(b, raw)
			got, n, took := loadSteps(hi-lo, conc, lo, l.worker)
			lat[k], checks[k], elapsed[k] = append(lat[k], got...), checks[k]+n, elapsed[k]+took
			trips[k] += rt.n.Load() - before
			cpu[k] += serverCPU(b, raw) - cpu0
		}
	}
	b.StopTimer()
	floor := float64(len(lat[3])) / elapsed[3].Seconds()
	for k, l := range loads {
		report(b, l.prefix, lat[k], checks[k], elapsed[k])
		b.ReportMetric(cpu[k].Seconds()*1e6/float64(checks[k]), l.prefix+"redis-µs/"+unitOf(l.prefix))
		if l.hooked && checks[k] > 0 {
			b.ReportMetric(float64(trips[k])/float64(checks[k]), l.prefix+"rt/check")
			b.ReportMetric(float64(checks[k])/elapsed[k].Seconds()/floor, l.prefix+"x-evalsha")
		}
	}
}

// Recipients, domains and reps the checks spread over.
var (
	benchRcpts = names(1000, func(i int) string { return fmt.Sprintf("p%d@d%d.example", i, i%100) })
	benchReps  = names(10, func(i int) string { return fmt.Sprintf("rep%d@gw.example", i) })
	benchNow   = time.Date(2026, 11, 3, 14, 0, 0, 0, time.UTC)
)

func names(n int, f func(int) string) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = f(i)
	}
	return out
}

// checkOnce returns the checked operation: one recipient of a new
// message, reserved then committed. Message ids start with run, so runs
// on one store do not meet.
func checkOnce(c *caps.Checker, run string) func(i int) error {
	ctx := context.Background()
	return func(i int) error {
		tk, ref, err := c.Reserve(ctx, benchReps[i%len(benchReps)], benchRcpts[i%len(benchRcpts)], "FR", run+strconv.Itoa(i), benchNow)
		if err != nil {
			return err
		}
		if ref != nil {
			return fmt.Errorf("check %d refused: %s", i, ref.Text())
		}
		return tk.Commit(ctx, benchNow)
	}
}

// messages returns workers that send messages of n recipients, one step
// at a time: n reserves, then one settle committing them all.
func messages(c *caps.Checker, n int) func() func(int) (int, error) {
	ctx := context.Background()
	return func() func(int) (int, error) {
		var tickets []*caps.Ticket
		msg := ""
		return func(i int) (int, error) {
			if len(tickets) == n {
				err := c.Settle(ctx, tickets, nil, benchNow)
				tickets = tickets[:0]
				return n, err
			}
			if len(tickets) == 0 {
				msg = "m" + strconv.Itoa(i)
			}
			tk, ref, err := c.Reserve(ctx, benchReps[i%len(benchReps)], benchRcpts[i%len(benchRcpts)], "FR", msg, benchNow)
			if err == nil && ref != nil {
				err = fmt.Errorf("check %d refused: %s", i, ref.Text())
			}
			tickets = append(tickets, tk)
			return 0, err
		}
	}
}

// load runs op n times over conc goroutines and returns every call's
// latency and the wall time of the whole run.
func load(n, conc int, op func(i int) error) ([]time.Duration, time.Duration) {
	lat, _, elapsed := loadSteps(n, conc, 0, func() func(int) (int, error) {
		return func(i int) (int, error) { return 1, op(i) }
	})
	return lat, elapsed
}

// loadSteps runs steps first..first+n-1 over conc workers and returns
// every step's latency, the checks they completed and the wall time. It
// panics on an error, which in a benchmark means the set-up is broken.
func loadSteps(n, conc, first int, worker func() func(int) (int, error)) ([]time.Duration, int, time.Duration) {
	var next atomic.Int64
	var checks atomic.Int64
	per := make([][]time.Duration, conc)
	var wg sync.WaitGroup
	start := time.Now()
	for w := range conc {
		op := worker()
		wg.Go(func() {
			for i := int(next.Add(1)) - 1; i < n; i = int(next.Add(1)) - 1 {
				t := time.Now()
				done, err := op(first + i)
				if err != nil {
					panic(fmt.Sprintf("benchmark step %d: %v", first+i, err))
				}
				per[w] = append(per[w], time.Since(t))
				checks.Add(int64(done))
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	return slices.Concat(per...), int(checks.Load()), elapsed
}

// report adds throughput and latency percentiles under the given prefix:
// checks/s, p50-µs, p99-µs for the checks, ping-ops/s, … for a floor.
func report(b *testing.B, prefix string, lat []time.Duration, checks int, elapsed time.Duration) {
	if len(lat) == 0 || elapsed <= 0 {
		return
	}
	slices.Sort(lat)
	pct := func(p float64) float64 {
		return float64(lat[int(p*float64(len(lat)-1))].Nanoseconds()) / 1e3
	}
	b.ReportMetric(float64(checks)/elapsed.Seconds(), prefix+unitOf(prefix)+"s/s")
	b.ReportMetric(pct(0.50), prefix+"p50-µs")
	b.ReportMetric(pct(0.99), prefix+"p99-µs")
}

// unitOf names what a load counts: checks, or a floor's ops.
func unitOf(prefix string) string {
	if prefix == "ping-" || prefix == "evalsha-" {
		return "op"
	}
	return "check"
}

// serverCPU is the Redis server's CPU time so far (user and system).
func serverCPU(b *testing.B, raw *redis.Client) time.Duration {
	info, err := raw.Info(context.Background(), "cpu").Result()
	if err != nil {
		b.Fatal(err)
	}
	var total float64
	for _, line := range strings.Fields(info) {
		name, v, _ := strings.Cut(line, ":")
		if name == "used_cpu_user" || name == "used_cpu_sys" {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				b.Fatalf("INFO cpu: %s: %v", line, err)
			}
			total += f
		}
	}
	return time.Duration(total * float64(time.Second))
}

// roundTrips is a client hook counting round trips: a command, or a
// pipeline (one node's: the benchmark's store is one node).
type roundTrips struct{ n atomic.Int64 }

func (r *roundTrips) DialHook(next redis.DialHook) redis.DialHook { return next }

func (r *roundTrips) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		r.n.Add(1)
		return next(ctx, cmd)
	}
}

func (r *roundTrips) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		r.n.Add(1)
		return next(ctx, cmds)
	}
}
