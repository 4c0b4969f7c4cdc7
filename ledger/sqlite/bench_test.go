package sqlite

import (
	"path/filepath"
	"testing"

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
	ledgertest.Seed(b, l, n)
	if _, err := l.w.Exec("ANALYZE"); err != nil {
		b.Fatal(err)
	}
	ledgertest.Bench(b, l, n)
}
