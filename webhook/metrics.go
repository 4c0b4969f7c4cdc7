package webhook

import "github.com/prometheus/client_golang/prometheus"

// Metrics are the deliveries' families; a nil *Metrics counts nothing.
type Metrics struct {
	attempts *prometheus.CounterVec
	dead     *prometheus.CounterVec
}

// NewMetrics registers the families with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		attempts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "dncgate_webhook_attempts_total",
			Help: "Webhook POSTs made, by endpoint and result (ok or error).",
		}, []string{"endpoint", "result"}),
		dead: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "dncgate_webhook_dead_total",
			Help: "Webhook events given up after their endpoint's max_age and dead-lettered, by endpoint.",
		}, []string{"endpoint"}),
	}
	reg.MustRegister(m.attempts, m.dead)
	return m
}

// Prepare makes every endpoint's series exist at zero, so an alert on
// them holds before the first event.
func (m *Metrics) Prepare(names []string) {
	if m == nil {
		return
	}
	for _, n := range names {
		m.attempts.WithLabelValues(n, "ok")
		m.attempts.WithLabelValues(n, "error")
		m.dead.WithLabelValues(n)
	}
}

func (m *Metrics) attempt(name string, ok bool) {
	if m == nil {
		return
	}
	r := "error"
	if ok {
		r = "ok"
	}
	m.attempts.WithLabelValues(name, r).Inc()
}

func (m *Metrics) died(name string) {
	if m != nil {
		m.dead.WithLabelValues(name).Inc()
	}
}

// Attempts and Dead are the series, for tests.
func (m *Metrics) Attempts(name string, ok bool) prometheus.Counter {
	r := "error"
	if ok {
		r = "ok"
	}
	return m.attempts.WithLabelValues(name, r)
}

func (m *Metrics) Dead(name string) prometheus.Counter { return m.dead.WithLabelValues(name) }
