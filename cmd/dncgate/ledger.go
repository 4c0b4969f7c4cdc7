package main

import (
	"context"
	"fmt"
	"time"

	"github.com/dncgate/dncgate/config"
	"github.com/dncgate/dncgate/ledger"
	"github.com/dncgate/dncgate/ledger/postgres"
	"github.com/dncgate/dncgate/ledger/sqlite"
)

// openLedger opens the ledger the configuration names: PostgreSQL for
// [ledger] url, else the SQLite file beside the store.
func openLedger(ctx context.Context, cfg *config.Config) (ledger.Ledger, error) {
	ret := ledgerRetention(cfg.Ledger.Retention)
	delay := ledger.CommitDelay(cfg.Ledger.CommitDelay.Duration)
	if cfg.Ledger.URL != "" {
		l, err := postgres.Open(ctx, cfg.Ledger.URL, ret, time.Now(), delay)
		if err != nil {
			return nil, fmt.Errorf("opening the ledger: %w", err)
		}
		return l, nil
	}
	l, err := sqlite.Open(cfg.LedgerPath(), ret, delay)
	if err != nil {
		return nil, fmt.Errorf("opening the ledger: %w", err)
	}
	return l, nil
}

func ledgerRetention(r config.LedgerRetention) ledger.Retention {
	return ledger.Retention{Sent: r.Sent.Duration, Refused: r.Refused.Duration, Audit: r.Audit.Duration}
}

// ledgerScope is the warning for instances that share a Redis store but
// keep each its own ledger: what this instance shows is not the whole
// story. "" when the ledger is complete.
func ledgerScope(cfg *config.Config) string {
	if cfg.Store.Backend == config.BackendRedis && cfg.Ledger.URL == "" {
		return "this ledger is this instance's own (the store is on Redis but [ledger] url is not set): it shows decisions made by this instance only"
	}
	return ""
}

// withLedger loads the configuration, checks that its store exists and is
// the one the key belongs to, opens the ledger, runs f and closes it,
// warning first when the ledger holds this instance only.
func (c *common) withLedger(ctx context.Context, a *app, f func(*config.Config, ledger.Ledger) error) error {
	cfg, err := c.load()
	if err != nil {
		return err
	}
	// The ledger belongs to a store: a mistyped --data or a store that
	// lost its identity must not read as "no decision matches", nor leave
	// an empty ledger file behind.
	st, err := openChecked(ctx, cfg)
	if err != nil {
		return err
	}
	st.Close()
	if note := ledgerScope(cfg); note != "" {
		fmt.Fprintln(a.stderr, "note: "+note)
	}
	l, err := openLedger(ctx, cfg)
	if err != nil {
		return err
	}
	defer l.Close()
	return f(cfg, l)
}
