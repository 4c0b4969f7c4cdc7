package relay

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

func withMetrics(m *Metrics) option { return func(o *Options) { o.Metrics = m } }

// samples gathers reg: each counter, gauge and histogram count by its
// name and sorted labels, as name{k="v",...}.
func samples(t *testing.T, reg *prometheus.Registry) map[string]float64 {
	t.Helper()
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, f := range fams {
		for _, m := range f.GetMetric() {
			var ls []string
			for _, l := range m.GetLabel() {
				ls = append(ls, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
			}
			sort.Strings(ls)
			key := f.GetName()
			if len(ls) > 0 {
				key += "{" + strings.Join(ls, ",") + "}"
			}
			switch f.GetType() {
			case dto.MetricType_COUNTER:
				out[key] = m.GetCounter().GetValue()
			case dto.MetricType_GAUGE:
				out[key] = m.GetGauge().GetValue()
			case dto.MetricType_HISTOGRAM:
				out[key+"_count"] = float64(m.GetHistogram().GetSampleCount())
			}
		}
	}
	return out
}

// TestMetricsCountWhatClientsWereTold: each RCPT by its verdict and
// reason, each ended transaction by its last reply, AUTH failures, the
// open sessions.
func TestMetricsCountWhatClientsWereTold(t *testing.T) {
	chk := newTableCheck()
	chk.answers["jan@firma.be"] = onBEList
	chk.answers["piet@firma.be"] = staleBE
	chk.fail["down@firma.fr"] = errors.New("connection refused")
	reg := prometheus.NewRegistry()
	e := testServer(t, withCheck(chk), withMode(Reject), withMetrics(NewMetrics(reg)))
	e.fwd.failRcpt("later@firma.fr", true)

	bad := dialRaw(t, e.addr(0))
	bad.ehlo()
	if got := bad.auth(repEmail, "wrong"); !strings.HasPrefix(got, "535 ") {
		t.Fatalf("wrong password: %q", got)
	}
	c := e.login(t)
	c.must("MAIL FROM:<rep@acme.fr>", 250)
	c.must("RCPT TO:<ok@firma.fr>", 250)
	c.must("RCPT TO:<OK@firma.fr>", 250) // the same person: not counted again
	c.must("RCPT TO:<jan@firma.be>", 550)
	c.must("RCPT TO:<piet@firma.be>", 451)
	c.must("RCPT TO:<down@firma.fr>", 451)
	c.must("RCPT TO:<a%b@firma.fr>", 553)
	c.must("DATA", 354)
	c.send(message(repEmail, "x") + ".\r\n")
	c.expect(250)

	startData(t, c, "later@firma.fr")
	c.send(message(repEmail, "y") + ".\r\n")
	c.expect(451)

	c.must("MAIL FROM:<rep@acme.fr>", 250)
	c.must("RSET", 250) // an abandoned transaction is no message
	c.must("MAIL FROM:<someone@else.fr>", 553)

	got := samples(t, reg)
	want := map[string]float64{
		`dncgate_recipients_total{reason="allowed",verdict="allowed"}`:           2, // ok@ and later@
		`dncgate_recipients_total{reason="list",verdict="refused"}`:              1,
		`dncgate_recipients_total{reason="stale",verdict="tempfail"}`:            1,
		`dncgate_recipients_total{reason="store-error",verdict="tempfail"}`:      1,
		`dncgate_recipients_total{reason="reroutable",verdict="refused"}`:        1,
		`dncgate_messages_total{reason="allowed",verdict="allowed"}`:             1,
		`dncgate_messages_total{reason="upstream-temporary",verdict="tempfail"}`: 1,
		`dncgate_messages_total{reason="sender",verdict="refused"}`:              1,
		`dncgate_auth_failures_total{reason="auth-failed"}`:                      1,
		`dncgate_auth_failures_total{reason="auth-throttle"}`:                    0,
		`dncgate_recipient_check_seconds_count`:                                  5, // not the repeat, nor a%b
		`dncgate_smtp_sessions`:                                                  2,
	}
	for k, v := range want {
		if g, ok := got[k]; !ok || g != v {
			t.Errorf("%s = %v (present %v), want %v", k, g, ok, v)
		}
	}
	c.must("QUIT", 221)
	bad.must("QUIT", 221)
	deadline := time.Now().Add(5 * time.Second)
	for samples(t, reg)[`dncgate_smtp_sessions`] != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("sessions after QUIT: %v, want 0", samples(t, reg)[`dncgate_smtp_sessions`])
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestMetricsSessionAfterSTARTTLS: the session STARTTLS ends is no longer
// counted; the fresh one is.
func TestMetricsSessionAfterSTARTTLS(t *testing.T) {
	reg := prometheus.NewRegistry()
	e := testServer(t, withMetrics(NewMetrics(reg)))
	c, err := smtp.DialStartTLS(e.addr(0), clientTLS(t))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Noop(); err != nil { // EHLO again, over TLS: the fresh session
		t.Fatal(err)
	}
	if got := samples(t, reg)[`dncgate_smtp_sessions`]; got != 1 {
		t.Errorf("sessions after STARTTLS: %v, want 1", got)
	}
}

func TestNilMetricsCountNothing(t *testing.T) {
	var m *Metrics
	m.sessionOpened()
	m.recipient(nil)
	m.message(nil)
	m.authFailed("made-up")
	m.checked(time.Second)
}

func TestReasonLabelStaysClosed(t *testing.T) {
	if got := reasonLabel("list:be-dncm"); got != "internal" {
		t.Errorf("an unknown reason became label %q", got)
	}
	if got := reasonLabel("opt-out"); got != "opt-out" {
		t.Errorf("opt-out became %q", got)
	}
}
