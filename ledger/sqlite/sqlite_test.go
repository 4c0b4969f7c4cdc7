package sqlite

import (
	"context"
	"path/filepath"
	"strings"
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

func TestTrends(t *testing.T) { ledgertest.RunTrends(t, open) }

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

// Outcomes commit without waiting for the disk, records and everything
// else with it: after an outcome the writer is back at FULL.
func TestOutcomeLeavesWriterAtFull(t *testing.T) {
	l, err := Open(filepath.Join(t.TempDir(), "ledger.db"), ledgertest.DefaultRetention)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	ctx := context.Background()
	d := ledgertest.Decision("SYNC", 1, 0, ledger.Allowed)
	if err := l.Record(ctx, []ledger.Decision{d}); err != nil {
		t.Fatal(err)
	}
	if err := l.SetOutcome(ctx, "SYNC", d.RcptDigest, ledger.Outcome{Kind: ledger.Sent, At: d.At}); err != nil {
		t.Fatal(err)
	}
	var level int
	if err := l.w.QueryRowContext(ctx, "PRAGMA synchronous").Scan(&level); err != nil || level != 2 {
		t.Errorf("after an outcome the writer's synchronous is %d (%v), want 2 (FULL)", level, err)
	}
}

// A ledger written before the rollup existed gets it at open, counted
// from its records.
func TestRollupRebuiltAtOpen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ledger.db")
	l, err := Open(path, ledgertest.DefaultRetention)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Record(context.Background(), ledgertest.TrendCorpus()); err != nil {
		t.Fatal(err)
	}
	if _, err := l.w.Exec("DROP TABLE daily"); err != nil {
		t.Fatal(err)
	}
	l.Close()
	l, err = Open(path, ledgertest.DefaultRetention)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	rows, err := l.DailyCounts(context.Background(), ledger.LastDays(ledgertest.Base, 30))
	if err != nil || len(rows) == 0 {
		t.Fatalf("rebuilt rollup: %d rows, %v", len(rows), err)
	}
	ledgertest.CheckRollup(t, l)
}

// TestOutcomeFindsItsRecordByReference: an outcome's update goes through
// the reference's index, not the recipient digest's, whose range grows
// with every message to the same person (the planner has no statistics
// on a new month table and took the digest's index, each outcome then
// reading every record of that recipient).
func TestOutcomeFindsItsRecordByReference(t *testing.T) {
	l, err := Open(filepath.Join(t.TempDir(), "ledger.db"), ledgertest.DefaultRetention)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	d := ledgertest.Decision("PLAN", 1, 0, ledger.Allowed)
	if err := l.Record(context.Background(), []ledger.Decision{d}); err != nil {
		t.Fatal(err)
	}
	tab := table(d.At)
	rows, err := l.w.Query("EXPLAIN QUERY PLAN "+updateSQL(tab), "sent", "", nil, d.Ref, d.RcptDigest[:])
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	if len(plan) != 1 || !strings.Contains(plan[0], "INDEX "+tab+"_ref ") {
		t.Fatalf("the outcome's update is planned as %q, want a search of %s_ref", plan, tab)
	}
}
