package web

import (
	"crypto/subtle"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// MetricsPath is where Prometheus scrapes.
const MetricsPath = "/metrics"

// Metrics serves g's families in the Prometheus text format. With a
// token, a scrape must send "Authorization: Bearer TOKEN" (RFC 6750 §2.1)
// or get 401. A family that cannot be gathered (the store does not answer
// for the lists' age) is logged and left out; the others still come.
func Metrics(g prometheus.Gatherer, token []byte, log *slog.Logger) Mount {
	h := promhttp.HandlerFor(g, promhttp.HandlerOpts{
		ErrorLog:      slogPrinter{log},
		ErrorHandling: promhttp.ContinueOnError,
	})
	if len(token) > 0 {
		h = bearer("dncgate metrics", token, h)
	}
	return Mount{Pattern: "GET " + MetricsPath, Handler: h}
}

// bearer lets through the requests that carry token, compared in
// constant time; the others get 401 naming realm.
func bearer(realm string, token []byte, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || subtle.ConstantTimeCompare([]byte(got), token) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="`+realm+`"`)
			plain(w, http.StatusUnauthorized, "bearer token required")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// slogPrinter carries promhttp's errors to the operational log.
type slogPrinter struct{ log *slog.Logger }

func (p slogPrinter) Println(v ...any) {
	p.log.Warn("metrics", "err", strings.TrimSuffix(fmt.Sprintln(v...), "\n"))
}
