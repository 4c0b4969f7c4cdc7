package console_test

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dncgate/dncgate/console"
	"github.com/dncgate/dncgate/ledger/ledgertest"
)

// BenchmarkLogPage measures the log page as a manager gets it, through
// the handler, the session check and the template, on a ledger seeded
// with ledgertest.Seed (DNCGATE_LEDGER_BENCH_N decisions over 30 days;
// the target is 10M with p99 ≤ 200 ms): the first page of a
// one-day filter, and an exact address search.
func BenchmarkLogPage(b *testing.B) {
	e := newEnv(b)
	n := ledgertest.BenchN(b)
	ledgertest.Seed(b, n, e.led.Record)
	for i := range 20 {
		e.record(e.decision("ADDR"+string(rune('A'+i)), rep, "findme@example.fr", time.Duration(i)*time.Hour))
	}
	br := e.browser()
	br.logIn(mgr)
	day := ledgertest.Base.Add(-48 * time.Hour).Format("2006-01-02")
	b.Run("one-day", func(b *testing.B) {
		pageLatencies(b, br, console.HomePath+"?from="+day+"&to="+day)
	})
	b.Run("address", func(b *testing.B) {
		pageLatencies(b, br, console.HomePath+"?address="+url.QueryEscape("findme@example.fr"))
	})
}

func pageLatencies(b *testing.B, br *browser, path string) {
	var ds []time.Duration
	for b.Loop() {
		t := time.Now()
		a := br.get(path)
		ds = append(ds, time.Since(t))
		if a.Status != http.StatusOK || !strings.Contains(a.Body, `<table class="responsive" id="log">`) {
			b.Fatalf("GET %s: %d, no rows", path, a.Status)
		}
	}
	slices.Sort(ds)
	pct := func(p float64) float64 { return float64(ds[int(float64(len(ds)-1)*p)]) / 1e6 }
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
}
