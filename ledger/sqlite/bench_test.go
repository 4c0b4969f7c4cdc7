package sqlite

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/dncgate/dncgate/ledger"
	"github.com/dncgate/dncgate/ledger/ledgertest"
)

// BenchmarkLedger: go test -run '^$' -bench Ledger ./ledger/sqlite
// (DNCGATE_LEDGER_BENCH_N=10000000 for the README's figures).
func BenchmarkLedger(b *testing.B) {
	l, err := Open(filepath.Join(b.TempDir(), "ledger.db"), ledgertest.DefaultRetention)
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	n := ledgertest.BenchN(b)
	// One transaction a batch, a prepared insert per month table: the
	// group commit's own write, without waiting for a batch to gather.
	ledgertest.Seed(b, n, func(_ context.Context, ds []ledger.Decision) error {
		return l.writeBatch([]write{{ds: ds}})[0]
	})
	if _, err := l.w.Exec("ANALYZE"); err != nil {
		b.Fatal(err)
	}
	ledgertest.Bench(b, l, n)
}
