package postgres

import (
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/dncgate/dncgate/internal/testpg"
	"github.com/dncgate/dncgate/ledger"
	"github.com/dncgate/dncgate/ledger/ledgersql"
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
	ledgertest.Seed(b, n, l.copyIn)
	// COPY writes no rollup: counted from the records, as at the open of
	// a ledger made before it.
	if _, err := l.pool.Exec(ctx, "DROP TABLE "+ledgersql.RollupTable); err != nil {
		b.Fatal(err)
	}
	if err := pgx.BeginFunc(ctx, l.pool, func(tx pgx.Tx) error { return ensureRollup(ctx, tx) }); err != nil {
		b.Fatal(err)
	}
	if _, err := l.pool.Exec(ctx, "VACUUM ANALYZE decisions"); err != nil {
		b.Fatal(err)
	}
	ledgertest.Bench(b, l, n)
}

// copyIn loads ds with COPY, the bulk path of PostgreSQL.
func (l *Ledger) copyIn(ctx context.Context, ds []ledger.Decision) error {
	rows := make([][]any, len(ds))
	for i, d := range ds {
		if err := l.ensure(ctx, d.At); err != nil {
			return err
		}
		rows[i] = ledgersql.Args(d, tc)
	}
	_, err := l.pool.CopyFrom(ctx, pgx.Identifier{"decisions"}, strings.Split(ledgersql.Columns, ", "), pgx.CopyFromRows(rows))
	return err
}
