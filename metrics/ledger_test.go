package metrics

import (
	"errors"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

func TestLedgerFamilies(t *testing.T) {
	reg := prometheus.NewRegistry()
	l := NewLedger(reg)
	// Every series is there before the first write.
	if n := len(writeCounts(t, reg)); n != 6 {
		t.Errorf("%d write series at start, want 6", n)
	}
	l.Wrote(LedgerRecord, 3*time.Millisecond, nil)
	l.Wrote(LedgerRecord, time.Second, errors.New("disk full"))
	l.Wrote(LedgerOutcome, time.Millisecond, errors.New("disk full"))
	l.Spooled(4096)
	l.Deleted(RetentionRefused, 7)
	l.Deleted(RetentionRefused, 0)

	counts := writeCounts(t, reg)
	for key, want := range map[string]uint64{"record/ok": 1, "record/error": 1, "outcome/error": 1, "outcome/ok": 0, "audit/ok": 0} {
		if counts[key] != want {
			t.Errorf("writes %s: %d, want %d", key, counts[key], want)
		}
	}
	if got := gauges(t, reg)["dncgate_ledger_spool_bytes"][""]; got != 4096 {
		t.Errorf("spool bytes %v", got)
	}
	deleted := counters(t, reg, "dncgate_retention_deleted_total", "kind")
	if got := deleted["refused"]; got != 7 {
		t.Errorf("refused deleted %v, want 7", got)
	}
	if got, ok := deleted["sent"]; !ok || got != 0 {
		t.Errorf("sent deleted %v (present %v), want 0", got, ok)
	}
	var nilLedger *Ledger
	nilLedger.Wrote(LedgerAudit, time.Second, nil) // must not panic
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
