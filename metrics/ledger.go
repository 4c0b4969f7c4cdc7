package metrics

import (
	"sync/atomic"
	"time"

	"github.com/dncgate/dncgate/ledger"

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

// Ledger are the send ledger's families: the time of each write to the
// backend and whether it failed, the spool's size, the records the
// retention deleted. Wrap puts them around a backend and WatchSpool reads
// the spool; a nil *Ledger counts nothing.
type Ledger struct {
	writeSeconds *prometheus.HistogramVec
	spoolBytes   prometheus.GaugeFunc
	deleted      *prometheus.CounterVec
	spool        atomic.Pointer[SpoolSizer]
}

// SpoolSizer is the spool as the gauge reads it (*ledger.Spool is one).
type SpoolSizer interface {
	Bytes() int64
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
		deleted: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "dncgate_retention_deleted_total",
			Help: "Ledger records deleted because their retention ran out, by kind.",
		}, []string{"kind"}),
	}
	l.spoolBytes = prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "dncgate_ledger_spool_bytes",
		Help: "Bytes of ledger writes spooled while the backend could not take them, waiting for replay.",
	}, l.spoolSize)
	reg.MustRegister(l.writeSeconds, l.spoolBytes, l.deleted)
	for _, op := range []LedgerOp{LedgerRecord, LedgerOutcome, LedgerAudit} {
		l.writeSeconds.WithLabelValues(string(op), "ok")
		l.writeSeconds.WithLabelValues(string(op), "error")
	}
	for _, k := range []ledger.Kind{ledger.KindSent, ledger.KindRefused, ledger.KindAudit} {
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

// WatchSpool makes the spool gauge read s on each scrape.
func (l *Ledger) WatchSpool(s SpoolSizer) {
	if l != nil {
		l.spool.Store(&s)
	}
}

func (l *Ledger) spoolSize() float64 {
	if s := l.spool.Load(); s != nil {
		return float64((*s).Bytes())
	}
	return 0
}

// Deleted counts the records of one kind an expiry run deleted.
func (l *Ledger) Deleted(kind ledger.Kind, n int64) {
	if l != nil && n > 0 {
		l.deleted.WithLabelValues(string(kind)).Add(float64(n))
	}
}
