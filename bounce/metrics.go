package bounce

import "github.com/prometheus/client_golang/prometheus"

// Malformed is the metric label of a message that is no readable report.
const Malformed = "malformed"

// Metrics count the reports the listener received, by kind. A nil
// *Metrics counts nothing.
type Metrics struct {
	reports *prometheus.CounterVec
}

// NewMetrics makes the bounce listener's family and registers it with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{reports: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "dncgate_bounce_reports_total",
		Help: "Bounces and complaints received at the return paths, by kind (hard, soft, other, complaint, malformed).",
	}, []string{"kind"})}
	reg.MustRegister(m.reports)
	for _, k := range []string{string(Hard), string(Soft), string(Other), string(Complaint), Malformed} {
		m.reports.WithLabelValues(k)
	}
	return m
}

// Observe counts one report of kind what; it fits ListenerOptions.Observe.
func (m *Metrics) Observe(what string) {
	if m != nil {
		m.reports.WithLabelValues(what).Inc()
	}
}
