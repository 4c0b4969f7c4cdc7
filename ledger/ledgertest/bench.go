package ledgertest

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"runtime/metrics"
	"slices"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/dncgate/dncgate/ledger"
	"github.com/dncgate/dncgate/ledger/export"
)

// BenchEnv names the variable that sets the benchmark's number of
// decisions; the default keeps a run short.
const BenchEnv = "DNCGATE_LEDGER_BENCH_N"

const (
	benchDefaultN = 20000
	benchReps     = 200
	benchDays     = 30
	seedBatch     = 50000
)

// BenchN is the number of decisions to seed.
func BenchN(b *testing.B) int {
	s := os.Getenv(BenchEnv)
	if s == "" {
		return benchDefaultN
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1000 {
		b.Fatalf("%s=%q: want a number of decisions, at least 1000", BenchEnv, s)
	}
	return n
}

// benchReasons are the refusals' reasons: the trends' rollup holds a row
// per day, rep and reason.
var benchReasons = []ledger.Reason{"list:be-dncm", "list:fr-bloctel", "opt-out", "policy:consent-required",
	"cap:rep-daily", "list:uk-tps", "policy:role-address"}

func benchRep(i int) string { return fmt.Sprintf("rep%03d@corp.example", i%benchReps) }

// Seed loads n decisions spread over benchDays days before Base, from
// benchReps reps to n/5 recipients, nine in ten allowed, through load
// (the backend's bulk path: ten million through Record would take most
// of an hour), in batches of seedBatch, each Filled as Record would.
func Seed(b *testing.B, n int, load func(context.Context, []ledger.Decision) error) {
	start := time.Now()
	ctx := context.Background()
	span := benchDays * 24 * time.Hour
	batch := make([]ledger.Decision, 0, seedBatch)
	for i := range n {
		v := ledger.Allowed
		if i%10 == 9 {
			v = ledger.Refused
		}
		d := Decision(fmt.Sprintf("B%08d", i/3), i%(n/5), -span+time.Duration(int64(span)/int64(n)*int64(i)), v)
		d.Rep = benchRep(i)
		if v == ledger.Refused {
			d.Reason = benchReasons[(i/10)%len(benchReasons)]
		}
		d.Outcome = ledger.Outcome{Kind: ledger.Sent, Reply: "250 2.0.0 Ok", At: d.At}
		batch = append(batch, d)
		if len(batch) == cap(batch) || i == n-1 {
			ledger.Fill(batch)
			if err := load(ctx, batch); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	el := time.Since(start)
	b.Logf("seeded %d decisions in %s (%.0f rows/s)", n, el.Round(time.Millisecond), float64(n)/el.Seconds())
}

// Bench measures, on a seeded ledger: the first page of a one-day filter
// by rep, an exact address search, the trends of 30 days for every rep
// and for one (p50 and p99 of each), and CSV export in rows a second.
func Bench(b *testing.B, l ledger.Ledger, n int) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(1, 2))
	day := 24 * time.Hour
	b.Run("rep-day-first-page", func(b *testing.B) {
		latencies(b, func() (int, error) {
			since := Base.Add(-time.Duration(1+rng.IntN(benchDays-1)) * day)
			p, err := l.Query(ctx, ledger.Query{Rep: benchRep(rng.IntN(benchReps)), Since: since, Until: since.Add(day), Limit: 100})
			return len(p.Decisions), err
		})
	})
	b.Run("address", func(b *testing.B) {
		latencies(b, func() (int, error) {
			d := Digest(rng.IntN(n / 5))
			p, err := l.Query(ctx, ledger.Query{Digest: &d, Limit: 100})
			return len(p.Decisions), err
		})
	})
	b.Run("trends-30d", func(b *testing.B) {
		latencies(b, func() (int, error) {
			tr, err := ledger.ReadTrends(ctx, l, ledger.LastDays(Base, benchDays))
			return len(tr.Reps), err
		})
	})
	b.Run("trends-30d-one-rep", func(b *testing.B) {
		latencies(b, func() (int, error) {
			q := ledger.LastDays(Base, benchDays)
			q.Rep = benchRep(rng.IntN(benchReps))
			tr, err := ledger.ReadTrends(ctx, l, q)
			return len(tr.Reps), err
		})
	})
	b.Run("csv-export", func(b *testing.B) {
		rows := 0
		heap := WatchHeap()
		cpu0, start := CPUTime(), time.Now()
		for b.Loop() {
			w, _ := export.NewCSV(io.Discard)
			n, err := export.Stream(ctx, l, ledger.Query{Limit: ledger.MaxLimit}, w)
			if err != nil {
				b.Fatal(err)
			}
			rows += n
		}
		cpu, el := CPUTime()-cpu0, time.Since(start)
		b.ReportMetric(float64(rows)/el.Seconds(), "rows/s")
		b.ReportMetric(float64(cpu.Microseconds())/float64(rows), "cpu-µs/row")
		b.ReportMetric(float64(heap())/(1<<20), "heap-peak-MB")
	})
}

// CPUTime is the CPU time the process has used, user and system: a
// measure of the export's cost that another program's load on the
// machine changes less than the wall clock.
func CPUTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// WatchHeap samples the live heap every 10 ms until the returned function
// is called, which gives the largest sample: an export streams, so it
// should stay flat whatever the number of rows.
func WatchHeap() func() uint64 {
	stop, done := make(chan struct{}), make(chan uint64)
	go func() {
		s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		var peak uint64
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(s)
			peak = max(peak, s[0].Value.Uint64())
			select {
			case <-t.C:
			case <-stop:
				done <- peak
				return
			}
		}
	}()
	return func() uint64 { close(stop); return <-done }
}

// latencies runs op b.N times and reports p50 and p99 in milliseconds.
func latencies(b *testing.B, op func() (int, error)) {
	var ds []time.Duration
	found := 0
	for b.Loop() {
		t := time.Now()
		n, err := op()
		ds = append(ds, time.Since(t))
		if err != nil {
			b.Fatal(err)
		}
		found += n
	}
	if found == 0 {
		b.Fatal("no query found anything; the benchmark measures nothing")
	}
	slices.Sort(ds)
	pct := func(p float64) float64 { return float64(ds[int(float64(len(ds)-1)*p)]) / 1e6 }
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(float64(found)/float64(len(ds)), "rows/op")
}
