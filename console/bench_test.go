package console_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dncgate/dncgate/console"
	"github.com/dncgate/dncgate/internal/testpg"
	"github.com/dncgate/dncgate/ledger"
	"github.com/dncgate/dncgate/ledger/ledgersql"
	"github.com/dncgate/dncgate/ledger/ledgertest"
	"github.com/dncgate/dncgate/ledger/postgres"
	"github.com/dncgate/dncgate/ledger/sqlite"
	"github.com/dncgate/dncgate/store/embedded"
)

// BenchmarkConsole measures the console's pages as a manager gets them,
// through the handler, the session check and the template, on each
// ledger backend seeded with ledgertest.Seed (DNCGATE_LEDGER_BENCH_N
// decisions over the 30 days before ledgertest.Base): the first page of
// a one-day filter, an exact address search, the trends of 30 days, and
// a CSV export of a million rows (of every row when fewer are seeded).
// The target, at ten million: p99 at most 200 ms for each page,
// at least 100,000 rows/s for the export with a flat heap.
//
//	DNCGATE_LEDGER_BENCH_N=10000000 go test -run '^$' -bench Console -benchtime 10s -timeout 3h ./console
func BenchmarkConsole(b *testing.B) {
	n := ledgertest.BenchN(b)
	b.Run("sqlite", func(b *testing.B) {
		led, err := sqlite.Open(filepath.Join(b.TempDir(), "ledger.db"), ledgertest.DefaultRetention)
		if err != nil {
			b.Fatal(err)
		}
		defer led.Close()
		// Seed's batches of 50,000 go through the group commit whole: one
		// transaction and one prepared insert each, rollup included.
		ledgertest.Seed(b, n, led.Record)
		benchPages(b, led, n)
	})
	b.Run("postgres", func(b *testing.B) {
		ctx := context.Background()
		dsn := testpg.Start(b).NewDatabase(b)
		led := seedPostgres(b, ctx, dsn, n)
		defer led.Close()
		benchPages(b, led, n)
	})
}

// seedPostgres loads n decisions with COPY and returns the ledger opened
// on them, its rollup counted from the records as a ledger made before
// the rollup gets it.
func seedPostgres(b *testing.B, ctx context.Context, dsn string, n int) *postgres.Ledger {
	// Opened at the first seeded month, it makes the partitions of the
	// seeded months (that one and the two after it).
	first, err := postgres.Open(ctx, dsn, ledgertest.DefaultRetention, ledgertest.Base.AddDate(0, 0, -31))
	if err != nil {
		b.Fatal(err)
	}
	load, done, err := ledgertest.PostgresCopy(ctx, dsn)
	if err != nil {
		b.Fatal(err)
	}
	ledgertest.Seed(b, n, load)
	done()
	first.Close()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close(ctx)
	for _, sql := range []string{"DROP TABLE " + ledgersql.RollupTable, "VACUUM ANALYZE decisions"} {
		if _, err := conn.Exec(ctx, sql); err != nil {
			b.Fatalf("%s: %v", sql, err)
		}
	}
	start := time.Now()
	led, err := postgres.Open(ctx, dsn, ledgertest.DefaultRetention, time.Now())
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("rollup counted from %d decisions at open in %s", n, time.Since(start).Round(time.Millisecond))
	return led
}

// benchDays is the seeded span, as ledgertest.Seed lays it.
const benchDays = 30

// exportRows is the size of the export the target names.
const exportRows = 1_000_000

func benchPages(b *testing.B, led ledger.Ledger, n int) {
	st, err := embedded.Open(filepath.Join(b.TempDir(), "dncgate.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	e := newEnvWith(b, st, led)
	for i := range 20 {
		e.record(e.decision("ADDR"+string(rune('A'+i)), rep, "findme@example.fr", time.Duration(i)*time.Hour))
	}
	br := e.browser()
	br.logIn(mgr)
	day := func(ago int) string {
		return ledgertest.Base.AddDate(0, 0, -ago).Format("2006-01-02")
	}
	b.Run("log-one-day", func(b *testing.B) {
		i := 0
		pageLatencies(b, br, `<table class="responsive" id="log">`, func() string {
			// Each of the seeded days whole, in turn: no page twice in a row.
			d := day(1 + i%(benchDays-2))
			i++
			return console.HomePath + "?from=" + d + "&to=" + d
		})
	})
	b.Run("address", func(b *testing.B) {
		pageLatencies(b, br, `<table class="responsive" id="log">`, func() string {
			return console.HomePath + "?address=" + url.QueryEscape("findme@example.fr")
		})
	})
	b.Run("trends-30d", func(b *testing.B) {
		pageLatencies(b, br, `<table class="responsive" id="reps">`, func() string {
			return console.TrendsPath + "?from=" + day(benchDays-1) + "&to=" + day(0)
		})
	})
	b.Run("csv-export", func(b *testing.B) {
		// The days ending yesterday that hold about exportRows, or every
		// day.
		perDay := n / benchDays
		days := min(benchDays, max(1, (exportRows+perDay/2)/perDay))
		path := console.ExportPath + "?from=" + day(days) + "&to=" + day(1)
		if days == benchDays {
			path = console.ExportPath + "?from=" + day(benchDays) + "&to=" + day(0)
		}
		runtime.GC()
		base := ledgertest.WatchHeap()()
		heap := ledgertest.WatchHeap()
		rows := 0
		cpu0, start := ledgertest.CPUTime(), time.Now()
		for b.Loop() {
			rows += br.stream(path)
		}
		cpu, el := ledgertest.CPUTime()-cpu0, time.Since(start)
		b.ReportMetric(float64(rows)/el.Seconds(), "rows/s")
		// The server's and the client's CPU, both in this process: what
		// the export costs whatever else loads the machine.
		b.ReportMetric(float64(cpu.Microseconds())/float64(rows), "cpu-µs/row")
		b.ReportMetric(float64(rows)/float64(b.N), "rows/op")
		b.ReportMetric(float64(base)/(1<<20), "heap-before-MB")
		b.ReportMetric(float64(heap())/(1<<20), "heap-peak-MB")
	})
}

// stream downloads a CSV export without keeping it and returns its rows
// (the header not counted).
func (b *browser) stream(path string) int {
	b.e.t.Helper()
	resp, err := b.c.Get(b.e.srv.URL + path)
	if err != nil {
		b.e.t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") {
		b.e.t.Fatalf("GET %s: %d %s", path, resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	var lc lineCounter
	if _, err := io.Copy(&lc, resp.Body); err != nil {
		b.e.t.Fatal(err)
	}
	if lc < 2 {
		b.e.t.Fatalf("GET %s: %d lines, no rows", path, lc)
	}
	return int(lc) - 1
}

type lineCounter int

func (c *lineCounter) Write(p []byte) (int, error) {
	*c += lineCounter(bytes.Count(p, []byte{'\n'}))
	return len(p), nil
}

// pageLatencies gets the page path() gives at each iteration, checks it
// holds want, and reports p50 and p99 in milliseconds, and the CPU time
// of a page.
func pageLatencies(b *testing.B, br *browser, want string, path func() string) {
	var ds []time.Duration
	cpu0 := ledgertest.CPUTime()
	for b.Loop() {
		p := path()
		t := time.Now()
		a := br.get(p)
		ds = append(ds, time.Since(t))
		if a.Status != http.StatusOK || !strings.Contains(a.Body, want) {
			b.Fatalf("GET %s: %d, no %s", p, a.Status, want)
		}
	}
	cpu := ledgertest.CPUTime() - cpu0
	slices.Sort(ds)
	pct := func(p float64) float64 { return float64(ds[int(float64(len(ds)-1)*p)]) / 1e6 }
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	// The handler's and the client's CPU (not the database server's):
	// what a page costs whatever else loads the machine.
	b.ReportMetric(float64(cpu.Microseconds())/1000/float64(len(ds)), "cpu-ms/op")
}
