package upstream

import (
	"errors"
	"time"

	"github.com/dncgate/dncgate/smtpreply"
	"github.com/prometheus/client_golang/prometheus"
)

// Result labels of an upstream transaction.
const (
	resultOK        = "ok"
	resultTemporary = "temporary" // 4xx, or the upstream could not be reached
	resultPermanent = "permanent" // 5xx
)

// Metrics are the upstream's Prometheus families. A nil *Metrics counts
// nothing.
type Metrics struct {
	sendSeconds *prometheus.HistogramVec
}

// NewMetrics makes the upstream's families and registers them with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		sendSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "dncgate_upstream_send_seconds",
			Help: "Time one recipient's upstream transaction took (connection, MAIL, RCPT, DATA), by result.",
			// From a pooled connection on the LAN to a DATA close to
			// its 10-minute limit.
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300},
		}, []string{"result"}),
	}
	reg.MustRegister(m.sendSeconds)
	for _, r := range []string{resultOK, resultTemporary, resultPermanent} {
		m.sendSeconds.WithLabelValues(r)
	}
	return m
}

// sent observes one transaction and its outcome (nil: accepted).
func (m *Metrics) sent(took time.Duration, err error) {
	if m == nil {
		return
	}
	m.sendSeconds.WithLabelValues(resultOf(err)).Observe(took.Seconds())
}

func resultOf(err error) string {
	var e *smtpreply.Error
	switch {
	case err == nil:
		return resultOK
	case errors.As(err, &e) && !e.Temporary():
		return resultPermanent
	}
	return resultTemporary
}
