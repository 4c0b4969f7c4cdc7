package relay

import (
	"time"

	"github.com/dncgate/dncgate/smtpreply"
	"github.com/prometheus/client_golang/prometheus"
)

// Verdict labels: what became of a message or a recipient, by the reply
// the client got. With the reason (smtpreply.Reason) they are the labels
// of the message and recipient counters, both closed sets.
const (
	verdictAllowed  = "allowed"
	verdictRefused  = "refused"  // a permanent refusal, or left out in drop-and-notify mode
	verdictTempFail = "tempfail" // a 4xx: the client retries
)

// Metrics are the relay's Prometheus families. A nil *Metrics counts
// nothing, so tests and callers without a registry pass none.
type Metrics struct {
	sessions     prometheus.Gauge
	messages     *prometheus.CounterVec
	recipients   *prometheus.CounterVec
	authFailures *prometheus.CounterVec
	checkSeconds prometheus.Histogram
}

// NewMetrics makes the relay's families and registers them with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		sessions: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "dncgate_smtp_sessions",
			Help: "SMTP sessions open now (from EHLO to QUIT; STARTTLS starts a fresh one).",
		}),
		messages: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "dncgate_messages_total",
			Help: "Mail transactions ended, by the verdict of the client's last reply and its reason.",
		}, []string{"verdict", "reason"}),
		recipients: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "dncgate_recipients_total",
			Help: "Recipients answered at RCPT, by verdict and reason.",
		}, []string{"verdict", "reason"}),
		authFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "dncgate_auth_failures_total",
			Help: "SMTP AUTH attempts refused, by reason.",
		}, []string{"reason"}),
		checkSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "dncgate_recipient_check_seconds",
			Help:    "Time the recipient check took at RCPT: the store's contact, list and entry lookups.",
			Buckets: storeBuckets,
		}),
	}
	reg.MustRegister(m.sessions, m.messages, m.recipients, m.authFailures, m.checkSeconds)
	// The common series exist from the start, so a rate over them has a
	// first sample before the first mail.
	m.messages.WithLabelValues(verdictAllowed, string(smtpreply.Allowed))
	m.recipients.WithLabelValues(verdictAllowed, string(smtpreply.Allowed))
	for _, r := range []smtpreply.Reason{smtpreply.AuthFailed, smtpreply.AuthThrottled} {
		m.authFailures.WithLabelValues(string(r))
	}
	return m
}

// storeBuckets span a loopback Redis round trip (0.1 ms) to a check that
// is about to time out.
var storeBuckets = []float64{.0002, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5}

// verdictOf labels a refusal, or an acceptance when e is nil.
func verdictOf(e *smtpreply.Error) (verdict, reason string) {
	switch {
	case e == nil:
		return verdictAllowed, string(smtpreply.Allowed)
	case e.Temporary():
		return verdictTempFail, reasonLabel(e.Reason)
	}
	return verdictRefused, reasonLabel(e.Reason)
}

// reasonLabel keeps the label set closed whatever a reason says.
func reasonLabel(r smtpreply.Reason) string {
	if !r.Known() {
		return string(smtpreply.Internal)
	}
	return string(r)
}

func (m *Metrics) sessionOpened() {
	if m != nil {
		m.sessions.Inc()
	}
}

func (m *Metrics) sessionClosed() {
	if m != nil {
		m.sessions.Dec()
	}
}

// message counts a transaction that ended with the reply to its last
// command: nil when the message was delivered.
func (m *Metrics) message(refusal *smtpreply.Error) {
	if m != nil {
		m.messages.WithLabelValues(verdictOf(refusal)).Inc()
	}
}

// recipient counts one RCPT's answer: nil when the recipient was taken.
func (m *Metrics) recipient(refusal *smtpreply.Error) {
	if m != nil {
		m.recipients.WithLabelValues(verdictOf(refusal)).Inc()
	}
}

func (m *Metrics) authFailed(r smtpreply.Reason) {
	if m != nil {
		m.authFailures.WithLabelValues(reasonLabel(r)).Inc()
	}
}

func (m *Metrics) checked(took time.Duration) {
	if m != nil {
		m.checkSeconds.Observe(took.Seconds())
	}
}
