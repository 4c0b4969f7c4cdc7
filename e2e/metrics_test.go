package e2e

import (
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

const metricsToken = "e2e-metrics-token-0123456789"

// metricsConfig adds a listener that rejects at RCPT, the web listener
// with a metrics token, and a company deny list of addresses.
func metricsConfig(strict, webAddr, tokenFile string) string {
	return fmt.Sprintf(`
[web]
listen = %q
metrics_token_file = %q

[[listener]]
name = "strict"
address = %q
tls = "none"
on_refusal = "reject"

[[lists]]
name = "acme-deny"
kind = "email"
model = "deny"
countries = ["all"]
max_age = "5d"
source = "the sales team"
`, webAddr, tokenFile, strict)
}

// TestMetrics sends allowed and refused mail, fails an AUTH, then scrapes
// /metrics and checks every family and that the counts are what was sent.
func TestMetrics(t *testing.T) {
	dir := t.TempDir()
	up := startUpstream(t)
	addr, strict, webAddr := freeAddr(t), freeAddr(t), freeAddr(t)
	tokenFile := filepath.Join(dir, "metrics.token")
	os.WriteFile(tokenFile, []byte(metricsToken+"\n"), 0o600)
	cfg := writeConfig(t, dir, relayConfig(dir, addr, up.addr, metricsConfig(strict, webAddr, tokenFile)))
	addUser(t, "rep@acme.test", "--config", cfg)
	deny := filepath.Join(dir, "deny.csv")
	os.WriteFile(deny, []byte("blocked@firma.fr\n"), 0o600)
	mustCLI(t, "", "lists", "import", "acme-deny", deny, "--config", cfg)
	mustCLI(t, "", "lists", "add", "opt-out", "gone@firma.fr", "--reason", "asked by phone", "--config", cfg)
	startGateway(t, addr, "--config", cfg)

	// Drop-and-notify: two delivered, one left out; the message goes.
	rcpts := []string{"ok@firma.fr", "ok2@firma.fr", "gone@firma.fr"}
	if err := sendAs(addr, "rep@acme.test", "rep@acme.test", rcpts, message("rep@acme.test", "ok@firma.fr", "m-1")); err != nil {
		t.Fatalf("allowed send: %v", err)
	}
	// Every recipient left out: the message is refused at DATA.
	err := sendAs(addr, "rep@acme.test", "rep@acme.test", []string{"gone@firma.fr"}, message("rep@acme.test", "gone@firma.fr", "m-2"))
	var se *smtp.SMTPError
	if !asSMTPError(err, &se) || se.Code/100 != 5 {
		t.Fatalf("all left out: %v, want a 5xx", err)
	}
	// Reject mode: refused at RCPT by the deny list.
	err = sendAs(strict, "rep@acme.test", "rep@acme.test", []string{"blocked@firma.fr"}, message("rep@acme.test", "blocked@firma.fr", "m-3"))
	if !asSMTPError(err, &se) || se.Code != 550 {
		t.Fatalf("deny list: %v, want 550", err)
	}
	if code := smtpLogin(t, addr, "", "wrong password"); code != 535 {
		t.Fatalf("wrong password: %d, want 535", code)
	}

	url := "http://" + webAddr + "/metrics"
	if code, _ := httpGet(t, url, ""); code != http.StatusUnauthorized {
		t.Fatalf("scrape without the token: %d, want 401", code)
	}
	// One session held open while scraping; the others must have ended.
	open, err := smtp.Dial(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer open.Close()
	if err := open.Hello("client.test"); err != nil {
		t.Fatal(err)
	}
	fams := scrapeUntil(t, url, func(f families) bool { return f.value("dncgate_smtp_sessions") == 1 })

	want := map[string]float64{
		`dncgate_messages_total{reason="allowed",verdict="allowed"}`:      1,
		`dncgate_messages_total{reason="all-left-out",verdict="refused"}`: 1,
		`dncgate_recipients_total{reason="allowed",verdict="allowed"}`:    2,
		`dncgate_recipients_total{reason="opt-out",verdict="refused"}`:    2,
		`dncgate_recipients_total{reason="list",verdict="refused"}`:       1,
		`dncgate_auth_failures_total{reason="auth-failed"}`:               1,
		`dncgate_recipient_check_seconds_count`:                           5,
		`dncgate_upstream_send_seconds_count{result="ok"}`:                float64(len(up.deliveries())),
		`dncgate_upstream_send_seconds_count{result="permanent"}`:         0,
		`dncgate_list_max_age_seconds{list="acme-deny"}`:                  5 * 24 * 3600,
		`dncgate_list_max_age_seconds{list="opt-out"}`:                    0,
		`dncgate_ledger_spool_bytes`:                                      0,
		`dncgate_retention_deleted_total{kind="sent"}`:                    0,
		`dncgate_ledger_write_seconds_count{op="record",result="error"}`:  0,
		`dncgate_smtp_sessions`:                                           1,
	}
	for series, v := range want {
		if got, ok := fams[series]; !ok || got != v {
			t.Errorf("%s = %v (present %v), want %v", series, got, ok, v)
		}
	}
	if n := len(up.deliveries()); n < 2 {
		t.Errorf("upstream got %d copies, want the 2 allowed and the rep's report", n)
	}
	if age, ok := fams[`dncgate_list_age_seconds{list="acme-deny"}`]; !ok || age < 0 || age > 600 {
		t.Errorf("acme-deny age %v (present %v), want the minutes since its import", age, ok)
	}
	// The opt-out list is filled by hand, never imported.
	if age, ok := fams[`dncgate_list_age_seconds{list="opt-out"}`]; !ok || !math.IsInf(age, 1) {
		t.Errorf("opt-out age %v (present %v), want +Inf", age, ok)
	}
}

// families maps each sample, named as Prometheus prints it
// (name{label="value",...}, labels sorted), to its value.
type families map[string]float64

func (f families) value(series string) float64 { return f[series] }

// scrapeUntil scrapes with the token until ok holds (sessions end a
// moment after their client closes), then returns the last scrape.
func scrapeUntil(t *testing.T, url string, ok func(families) bool) families {
	t.Helper()
	var f families
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		code, body := httpGet(t, url, "Bearer "+metricsToken)
		if code != http.StatusOK {
			t.Fatalf("scrape: %d %s", code, body)
		}
		f = parseMetrics(t, body)
		if ok(f) {
			return f
		}
	}
	t.Fatalf("the scrape never met the condition; last:\n%v", f)
	return nil
}

// parseMetrics parses the text format with Prometheus' own parser.
func parseMetrics(t *testing.T, body string) families {
	t.Helper()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := parser.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		t.Fatalf("parsing the scrape: %v\n%s", err, body)
	}
	out := families{}
	for name, mf := range mfs {
		for _, m := range mf.GetMetric() {
			labels := labelText(m)
			switch mf.GetType() {
			case dto.MetricType_COUNTER:
				out[name+labels] = m.GetCounter().GetValue()
			case dto.MetricType_GAUGE:
				out[name+labels] = m.GetGauge().GetValue()
			case dto.MetricType_HISTOGRAM:
				out[name+"_count"+labels] = float64(m.GetHistogram().GetSampleCount())
			}
		}
	}
	return out
}

func labelText(m *dto.Metric) string {
	if len(m.GetLabel()) == 0 {
		return ""
	}
	parts := make([]string, 0, len(m.GetLabel()))
	for _, l := range m.GetLabel() { // the parser keeps them sorted by name
		parts = append(parts, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
	}
	return "{" + strings.Join(parts, ",") + "}"
}

func httpGet(t *testing.T, url, auth string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}
