package postgres

import (
	"context"
	"testing"

	"github.com/dncgate/dncgate/internal/testpg"
	"github.com/dncgate/dncgate/ledger"
	"github.com/dncgate/dncgate/ledger/ledgertest"
)

func TestTrends(t *testing.T) {
	srv := testpg.Start(t)
	ledgertest.RunTrends(t, func(t *testing.T, ret ledger.Retention) ledger.Ledger {
		l, err := Open(context.Background(), srv.NewDatabase(t), ret, ledgertest.Base)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { l.Close() })
		return l
	})
}

// A ledger written before the rollup existed gets it at open, counted
// from its records.
func TestRollupRebuiltAtOpen(t *testing.T) {
	srv := testpg.Start(t)
	ctx := context.Background()
	url := srv.NewDatabase(t)
	l, err := Open(ctx, url, ledgertest.DefaultRetention, ledgertest.Base)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Record(ctx, ledgertest.TrendCorpus()); err != nil {
		t.Fatal(err)
	}
	if _, err := l.pool.Exec(ctx, "DROP TABLE daily"); err != nil {
		t.Fatal(err)
	}
	l.Close()
	l, err = Open(ctx, url, ledgertest.DefaultRetention, ledgertest.Base)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	rows, err := l.DailyCounts(ctx, ledger.LastDays(ledgertest.Base, 30))
	if err != nil || len(rows) == 0 {
		t.Fatalf("rebuilt rollup: %d rows, %v", len(rows), err)
	}
	ledgertest.CheckRollup(t, l)
}
