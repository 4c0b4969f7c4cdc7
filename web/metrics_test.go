package web

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// brokenCollector stands for a family whose source does not answer.
type brokenCollector struct{ desc *prometheus.Desc }

func (b brokenCollector) Describe(ch chan<- *prometheus.Desc) { ch <- b.desc }
func (b brokenCollector) Collect(ch chan<- prometheus.Metric) {
	ch <- prometheus.NewInvalidMetric(b.desc, errors.New("store down"))
}

func metricsServer(t *testing.T, token string) string {
	t.Helper()
	reg := prometheus.NewRegistry()
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: "dncgate_test_total", Help: "test"})
	c.Add(3)
	reg.MustRegister(c, brokenCollector{prometheus.NewDesc("dncgate_broken", "broken", nil, nil)})
	var tok []byte
	if token != "" {
		tok = []byte(token)
	}
	s, err := New("127.0.0.1:0", &pinger{}, slog.New(slog.DiscardHandler), Metrics(reg, tok, slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	go s.Serve()
	t.Cleanup(func() { s.Shutdown(context.Background()) })
	return "http://" + s.Addr().String() + MetricsPath
}

func scrape(t *testing.T, url, auth string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
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

func TestMetricsServedDespiteABrokenFamily(t *testing.T) {
	code, body := scrape(t, metricsServer(t, ""), "")
	if code != 200 || !strings.Contains(body, "dncgate_test_total 3\n") {
		t.Fatalf("scrape = %d\n%s", code, body)
	}
	if strings.Contains(body, "dncgate_broken") {
		t.Errorf("the broken family is in the scrape:\n%s", body)
	}
}

func TestMetricsToken(t *testing.T) {
	url := metricsServer(t, "0123456789abcdef")
	for _, auth := range []string{"", "Bearer wrong", "Basic MDEyMzQ1Njc4OWFiY2RlZg==", "Bearer 0123456789abcde", "0123456789abcdef"} {
		if code, body := scrape(t, url, auth); code != http.StatusUnauthorized || strings.Contains(body, "dncgate_test_total") {
			t.Errorf("Authorization %q: %d %q, want 401 and no metrics", auth, code, body)
		}
	}
	if code, body := scrape(t, url, "Bearer 0123456789abcdef"); code != 200 || !strings.Contains(body, "dncgate_test_total 3") {
		t.Errorf("right token: %d\n%s", code, body)
	}
}
