package main

import (
	"context"
	"errors"
	"fmt"
	"github.com/dncgate/dncgate/optoutapi"
	"github.com/dncgate/dncgate/webhook"
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
// history finds them, and queues the CRM's webhook event. The opt-out is
// made before either: a failure is returned for the caller to log.
type optOutAudit struct {
	l      ledger.Ledger
	key    []byte
	notify *webhook.Notifier
}

func (a optOutAudit) OptedOut(ctx context.Context, addr string, source ledger.Source) error {
	var errAudit error
	if a.l != nil { // nil when the ledger is off
		d := ledger.RcptDigest(a.key, addr)
		errAudit = a.l.Audit(ctx, ledger.AuditEvent{At: time.Now(), Actor: "recipient", Action: ledger.ActOptOut, Digest: &d, Source: source})
	}
	errHook := a.notify.Notify(ctx, optOutEvent(webhook.OptOut, a.key, addr, source, "recipient"))
	return errors.Join(errAudit, errHook)
}

// notifyOrNil keeps a nil *webhook.Notifier from becoming a non-nil
// interface.
func notifyOrNil(n *webhook.Notifier) optoutapi.Notifier {
	if n == nil {
		return nil
	}
	return n
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
