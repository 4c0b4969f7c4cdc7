package sqlite

import (
	"path/filepath"
	"testing"

	"github.com/dncgate/dncgate/ledger"
	"github.com/dncgate/dncgate/ledger/ledgertest"
)

func open(t *testing.T, ret ledger.Retention) ledger.Ledger {
	l, err := Open(filepath.Join(t.TempDir(), "ledger.db"), ret)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

func TestContract(t *testing.T) { ledgertest.Run(t, open) }
