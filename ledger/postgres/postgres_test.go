package postgres

import (
	"context"
	"testing"

	"github.com/dncgate/dncgate/internal/testpg"
	"github.com/dncgate/dncgate/ledger"
	"github.com/dncgate/dncgate/ledger/ledgertest"
)

func TestContract(t *testing.T) {
	srv := testpg.Start(t)
	ledgertest.Run(t, func(t *testing.T, ret ledger.Retention) ledger.Ledger {
		l, err := Open(context.Background(), srv.NewDatabase(t), ret, ledgertest.Base)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { l.Close() })
		return l
	})
}
