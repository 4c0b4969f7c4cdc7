package main

import (
	"github.com/dncgate/dncgate/bounce"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/dncgate/dncgate/config"
	"github.com/dncgate/dncgate/metrics"
	"github.com/dncgate/dncgate/relay"
	"github.com/dncgate/dncgate/relay/upstream"
	"github.com/dncgate/dncgate/web"
	"github.com/dncgate/dncgate/webhook"
)

// gatewayMetrics is serve's registry, with each package's families on it.
type gatewayMetrics struct {
	reg      *prometheus.Registry
	relay    *relay.Metrics
	upstream *upstream.Metrics
	bounce   *bounce.Metrics
	// ledger times the send ledger's writes once serve writes to it:
	// ledger.NewSpooled(gm.ledger.Wrap(backend), spool) and
	// gm.ledger.WatchSpool(spool). Until then its series stay at zero.
	ledger *metrics.Ledger
	// webhooks counts the CRM webhooks' attempts and dead letters.
	webhooks *webhook.Metrics
}

// newGatewayMetrics registers every family; lists is the store the lists'
// age is read from.
func newGatewayMetrics(lists metrics.ListSource) *gatewayMetrics {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	reg.MustRegister(metrics.NewLists(lists, metrics.ListsOptions{}))
	return &gatewayMetrics{reg: reg, relay: relay.NewMetrics(reg), upstream: upstream.NewMetrics(reg), ledger: metrics.NewLedger(reg),
		bounce: bounce.NewMetrics(reg), webhooks: webhook.NewMetrics(reg)}
}

// mounts is /metrics for the web listener, unless web.metrics is off, and
// /debug/pprof/ when web.pprof is on.
func (m *gatewayMetrics) mounts(cfg *config.Config, log *slog.Logger) ([]web.Mount, error) {
	var mounts []web.Mount
	if cfg.Web.Metrics {
		tok, err := cfg.MetricsToken()
		if err != nil {
			return nil, err
		}
		mounts = append(mounts, web.Metrics(m.reg, tok, log))
	}
	tok, err := cfg.PprofToken()
	if err != nil {
		return nil, err
	}
	if pp, ok := web.Pprof(tok); ok {
		log.Info("profiles served on the web listener", "path", web.PprofPath)
		mounts = append(mounts, pp)
	}
	return mounts, nil
}
