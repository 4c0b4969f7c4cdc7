package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// LedgerOp names a kind of write to the send ledger.
type LedgerOp string

// The ledger's writes.
const (
	LedgerRecord  LedgerOp = "record"  // decision records, before the copy leaves
	LedgerOutcome LedgerOp = "outcome" // a recipient's outcome
	LedgerAudit   LedgerOp = "audit"   // an audit event
)

// RetentionKind names a class of records with its own retention.
type RetentionKind string

// The retention classes (the ledger's kinds).
const (
	RetentionSent    RetentionKind = "sent"
	RetentionRefused RetentionKind = "refused"
	RetentionAudit   RetentionKind = "audit"
)

// Ledger are the send ledger's families: the time of each write to the
// backend and whether it failed, the spool's size, the records the
// retention deleted. The ledger (or a wrapper in the binary) reports to
// it; a nil *Ledger counts nothing.
type Ledger struct {
	writeSeconds *prometheus.HistogramVec
	spoolBytes   prometheus.Gauge
	deleted      *prometheus.CounterVec
}

// NewLedger makes the ledger's families and registers them with reg.
// Every series exists from the start at zero, so an alert on them holds
// before the first write.
func NewLedger(reg prometheus.Registerer) *Ledger {
	l := &Ledger{
		writeSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "dncgate_ledger_write_seconds",
			Help:    "Time one write to the send ledger's backend took, by operation and result (ok or error).",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"op", "result"}),
		spoolBytes: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "dncgate_ledger_spool_bytes",
			Help: "Bytes of ledger writes spooled while the backend could not take them, waiting for replay.",
		}),
		deleted: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "dncgate_retention_deleted_total",
			Help: "Ledger records deleted because their retention ran out, by kind.",
		}, []string{"kind"}),
	}
	reg.MustRegister(l.writeSeconds, l.spoolBytes, l.deleted)
	for _, op := range []LedgerOp{LedgerRecord, LedgerOutcome, LedgerAudit} {
		l.writeSeconds.WithLabelValues(string(op), "ok")
		l.writeSeconds.WithLabelValues(string(op), "error")
	}
	for _, k := range []RetentionKind{RetentionSent, RetentionRefused, RetentionAudit} {
		l.deleted.WithLabelValues(string(k))
	}
	return l
}

// Wrote observes one write to the backend; err is what it returned.
func (l *Ledger) Wrote(op LedgerOp, took time.Duration, err error) {
	if l == nil {
		return
	}
	result := "ok"
	if err != nil {
		result = "error"
	}
	l.writeSeconds.WithLabelValues(string(op), result).Observe(took.Seconds())
}

// Spooled sets the spool's size, after each write to it and each replay.
func (l *Ledger) Spooled(bytes int64) {
	if l != nil {
		l.spoolBytes.Set(float64(bytes))
	}
}

// Deleted counts the records of one kind an expiry run deleted.
func (l *Ledger) Deleted(kind RetentionKind, n int64) {
	if l != nil && n > 0 {
		l.deleted.WithLabelValues(string(kind)).Add(float64(n))
	}
}
