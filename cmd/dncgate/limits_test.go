package main

import (
	"log/slog"
	"testing"
	"time"

	"github.com/dncgate/dncgate/config"
)

// The [limits] keys reach the relay, "0 means no limit" included.
func TestRelayLimits(t *testing.T) {
	cfg := config.Default()
	cfg.Limits.PreAuthTimeout = config.Duration{Duration: 30 * time.Second}
	cfg.Limits.MaxConns, cfg.Limits.MaxConnsPerIP, cfg.Limits.MaxErrors = 300, 0, 7
	o, err := relayOptions(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if o.PreAuthTimeout != 30*time.Second || o.MaxConns != 300 || o.MaxConnsPerIP >= 0 || o.MaxErrors != 7 {
		t.Errorf("relay options: pre-auth %v, conns %d, per address %d, errors %d", o.PreAuthTimeout, o.MaxConns, o.MaxConnsPerIP, o.MaxErrors)
	}
}

// The connection limit fits in the open-file limit, which start raises.
func TestFitConns(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	if got := fitConns(50, log); got != 50 {
		t.Errorf("fitConns(50) = %d: 50 clients fit in any usual limit", got)
	}
	if got := fitConns(1<<30, log); got >= 1<<30 || got < 1 {
		t.Errorf("fitConns(2^30) = %d, want it lowered to the open-file limit", got)
	}
}
