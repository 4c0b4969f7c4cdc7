package metrics

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/dncgate/dncgate/ledger"
	"github.com/dncgate/dncgate/ledger/ledgertest"
	"github.com/dncgate/dncgate/ledger/sqlite"
	"github.com/prometheus/client_golang/prometheus"
)

// TestLedgerFamilies runs the real SQLite ledger behind the wrapper and
// a real spool: writes by result, the spool's size once the backend
// fails, what the retention deleted.
func TestLedgerFamilies(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	backend, err := sqlite.Open(filepath.Join(dir, "ledger.db"), ledger.Retention{Sent: time.Hour, Refused: time.Hour, Audit: 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	spool, err := ledger.OpenSpool(filepath.Join(dir, "ledger.spool"), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	defer spool.Close()
	reg := prometheus.NewRegistry()
	m := NewLedger(reg)
	// Every series is there before the first write.
	if n := len(writeCounts(t, reg)); n != 6 {
		t.Errorf("%d write series at start, want 6", n)
	}
	m.WatchSpool(spool)
	l := ledger.NewSpooled(m.Wrap(backend), spool)

	old := ledgertest.Decision("R1", 1, 0, ledger.Allowed)
	if err := l.Record(ctx, []ledger.Decision{old, ledgertest.Decision("R1", 2, 0, ledger.Refused)}); err != nil {
		t.Fatal(err)
	}
	// No such decision is an answer, not a failure.
	if err := l.SetOutcome(ctx, "nope", ledgertest.Digest(9), ledger.Outcome{Kind: ledger.Sent, At: ledgertest.Base}); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Expire(ctx, ledgertest.Base.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if got := gauges(t, reg)["dncgate_ledger_spool_bytes"][""]; got != 0 {
		t.Errorf("spool bytes %v before any failure, want 0", got)
	}
	backend.Close() // the database goes away: writes fail and are spooled
	if err := l.Record(ctx, []ledger.Decision{ledgertest.Decision("R2", 3, time.Hour, ledger.Allowed)}); err != nil {
		t.Fatalf("the spool did not take the write: %v", err)
	}

	counts := writeCounts(t, reg)
	for key, want := range map[string]uint64{"record/ok": 1, "record/error": 1, "outcome/ok": 1, "outcome/error": 0, "audit/ok": 0} {
		if counts[key] != want {
			t.Errorf("writes %s: %d, want %d", key, counts[key], want)
		}
	}
	if got, want := gauges(t, reg)["dncgate_ledger_spool_bytes"][""], float64(spool.Bytes()); got != want || got == 0 {
		t.Errorf("spool bytes %v, want the spool's %v, not 0", got, want)
	}
	deleted := counters(t, reg, "dncgate_retention_deleted_total", "kind")
	if deleted["sent"] != 1 || deleted["refused"] != 1 {
		t.Errorf("deleted %v, want one sent and one refused", deleted)
	}
	if got, ok := deleted["audit"]; !ok || got != 0 {
		t.Errorf("audit deleted %v (present %v), want 0", got, ok)
	}
}

func TestNilLedgerCountsNothing(t *testing.T) {
	var m *Ledger
	m.Wrote(LedgerAudit, time.Second, nil)
	m.WatchSpool(nil)
	m.Deleted(ledger.KindSent, 3)
	if m.Wrap(nil) != nil {
		t.Error("a nil Ledger wrapped its backend")
	}
}

// writeCounts is the write histogram's sample count by "op/result".
func writeCounts(t *testing.T, reg *prometheus.Registry) map[string]uint64 {
	t.Helper()
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]uint64{}
	for _, f := range fams {
		if f.GetName() != "dncgate_ledger_write_seconds" {
			continue
		}
		for _, m := range f.GetMetric() {
			var op, result string
			for _, l := range m.GetLabel() {
				switch l.GetName() {
				case "op":
					op = l.GetValue()
				case "result":
					result = l.GetValue()
				}
			}
			out[op+"/"+result] = m.GetHistogram().GetSampleCount()
		}
	}
	return out
}

// counters is one counter family's values by the label named.
func counters(t *testing.T, reg *prometheus.Registry, name, label string) map[string]float64 {
	t.Helper()
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, f := range fams {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == label {
					out[l.GetValue()] = m.GetCounter().GetValue()
				}
			}
		}
	}
	return out
}
