package main

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/dncgate/dncgate/config"
	"github.com/dncgate/dncgate/ledger"
)

// spoolReplayEvery is how often the gateway tries to move what it spooled
// into the ledger while the ledger could not be written.
const spoolReplayEvery = 10 * time.Second

// startLedger opens the configured ledger behind its spool and runs the
// spool's replay and the expiry of old records until stop is called,
// which then closes the ledger: after the sessions have drained.
//
// With [ledger] enabled = false (which the configuration refuses without
// bench_only = true) it says loudly that nothing is recorded and returns
// no ledger.
func startLedger(ctx context.Context, cfg *config.Config, log *slog.Logger) (l *ledger.Spooled, stop func(), err error) {
	if !cfg.Ledger.Enabled {
		log.Warn("ledger: OFF for a benchmark ([ledger] bench_only): no decision, outcome, opt-out or reload " +
			"is recorded; never run this in production")
		return nil, func() {}, nil
	}
	backend, err := openLedger(ctx, cfg)
	if err != nil {
		return nil, nil, err
	}
	spool, err := ledger.OpenSpool(cfg.LedgerSpoolPath(), int64(cfg.Ledger.SpoolMaxBytes))
	if err != nil {
		backend.Close()
		return nil, nil, fmt.Errorf("ledger spool: %w", err)
	}
	l = ledger.NewSpooled(backend, spool)
	if spool.Pending() {
		log.Warn("ledger: records are spooled from an earlier run; they are replayed as soon as the ledger takes them",
			"spool", cfg.LedgerSpoolPath())
	}
	rctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		l.Run(rctx, spoolReplayEvery, func(n int, err error) {
			if err != nil {
				log.Error("ledger: spool replay stopped", "replayed", n, "err", err.Error())
				return
			}
			log.Info("ledger: spooled records replayed", "replayed", n)
		})
	}()
	go func() {
		defer wg.Done()
		ledger.RunExpiry(rctx, l, ledger.ExpireEvery, time.Now, log)
	}()
	stop = func() {
		cancel()
		wg.Wait()
		if err := l.Close(); err != nil {
			log.Error("ledger: closing", "err", err.Error())
		}
	}
	return l, stop, nil
}

// optOutAudit writes the recipients' own opt-outs (link, one-click,
// mailto) to the audit trail, keyed by the address's digest so optout
// history finds them.
type optOutAudit struct {
	l   ledger.Ledger
	key []byte
}

func (a optOutAudit) OptedOut(ctx context.Context, addr string, source ledger.Source) error {
	d := ledger.RcptDigest(a.key, addr)
	return a.l.Audit(ctx, ledger.AuditEvent{At: time.Now(), Actor: "recipient", Action: ledger.ActOptOut, Digest: &d, Source: source})
}

// ledgerSummary is where the gateway records, for its ready line.
func ledgerSummary(cfg *config.Config) string {
	switch {
	case !cfg.Ledger.Enabled:
		return "OFF (bench_only): nothing is recorded"
	case cfg.Ledger.URL != "":
		return "postgres"
	}
	return cfg.LedgerPath()
}
