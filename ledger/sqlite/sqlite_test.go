package sqlite

import (
	"context"
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

// A record is on disk when Record returns: another opening of the file
// (the CLI, or the server after a crash) reads it, outcome unknown, before
// the first one is closed.
func TestRecordDurableBeforeOutcome(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ledger.db")
	w, err := Open(path, ledgertest.DefaultRetention)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	d := ledgertest.Decision("CRASH", 1, 0, ledger.Allowed)
	if err := w.Record(context.Background(), []ledger.Decision{d}); err != nil {
		t.Fatal(err)
	}
	r, err := Open(path, ledgertest.DefaultRetention)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	got, err := r.Transaction(context.Background(), "CRASH")
	if err != nil || len(got) != 1 || got[0].Outcome.Kind != ledger.Unknown {
		t.Fatalf("after a crash before the outcome: %+v, %v; want one record, outcome unknown", got, err)
	}
}

func TestOpenRefusesQueryInPath(t *testing.T) {
	if _, err := Open(filepath.Join(t.TempDir(), "x.db?mode=ro"), ledgertest.DefaultRetention); err == nil {
		t.Error("a path with '?' was accepted")
	}
}
