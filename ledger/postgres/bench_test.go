package postgres

import (
	"context"
	"testing"

	"github.com/dncgate/dncgate/internal/testpg"
	"github.com/dncgate/dncgate/ledger/ledgertest"
)

// BenchmarkLedger: go test -run '^$' -bench Ledger ./ledger/postgres
// (DNCGATE_LEDGER_BENCH_N=10000000 for the README's figures).
func BenchmarkLedger(b *testing.B) {
	srv := testpg.Start(b)
	ctx := context.Background()
	l, err := Open(ctx, srv.NewDatabase(b), ledgertest.DefaultRetention, ledgertest.Base)
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	n := ledgertest.BenchN(b)
	ledgertest.Seed(b, l, n)
	if _, err := l.pool.Exec(ctx, "VACUUM ANALYZE decisions"); err != nil {
		b.Fatal(err)
	}
	ledgertest.Bench(b, l, n)
}
