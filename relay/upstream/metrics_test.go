package upstream

import (
	"context"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// sendCounts is the send histogram's sample count by result.
func sendCounts(t *testing.T, reg *prometheus.Registry) map[string]uint64 {
	t.Helper()
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]uint64{}
	for _, f := range fams {
		if f.GetName() != "dncgate_upstream_send_seconds" {
			continue
		}
		for _, m := range f.GetMetric() {
			out[m.GetLabel()[0].GetValue()] = m.GetHistogram().GetSampleCount()
		}
	}
	return out
}

// TestForwardMetrics: one observation per upstream transaction, by its
// result; a recipient an earlier attempt reached is no transaction.
func TestForwardMetrics(t *testing.T) {
	up := startUpstream(t, nil, withScript(map[string]action{"bob@example.com": failRcpt, "cid@example.com": tempData}))
	reg := prometheus.NewRegistry()
	d := newMemDeliveries()
	f := newTestForwarder(t, up, d, ForwarderOptions{Metrics: NewMetrics(reg)}, nil)
	rcpts := []string{"ann@example.com", "bob@example.com", "cid@example.com", "dan@example.com"}
	f.Forward(context.Background(), envelope(rcpts...), testBody("m"))
	f.Forward(context.Background(), envelope(rcpts...), testBody("m")) // ann and dan: already
	got := sendCounts(t, reg)
	want := map[string]uint64{"ok": 2, "permanent": 2, "temporary": 2}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("sends %s: %d, want %d (all: %v)", k, got[k], v, got)
		}
	}
}
