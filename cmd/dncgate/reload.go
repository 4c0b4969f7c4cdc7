package main

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/dncgate/dncgate/config"
	"github.com/dncgate/dncgate/ledger"
	"github.com/dncgate/dncgate/relay"
)

// reloader reads the configuration again on SIGHUP and puts what a
// running gateway can change into force; a file with problems is refused
// whole and the running configuration stays.
type reloader struct {
	load  func() (*config.Config, error) // the file again, with the command line's overrides
	level *slog.LevelVar                 // the operational log's threshold
	hup   chan os.Signal
}

// newReloader catches SIGHUP from now on, so that one arriving while the
// gateway starts is taken once it runs rather than ending the process.
func newReloader(load func() (*config.Config, error), level *slog.LevelVar) *reloader {
	r := &reloader{load: load, level: level, hup: make(chan os.Signal, 1)}
	signal.Notify(r.hup, syscall.SIGHUP)
	return r
}

// stop stops catching SIGHUP.
func (r *reloader) stop() {
	if r != nil {
		signal.Stop(r.hup)
	}
}

// running is what a reload replaces pieces of.
type running struct {
	cfg   *config.Config
	st    backend
	key   []byte
	log   *slog.Logger
	srv   *relay.Server
	check *liveCheck
	audit auditor // the gateway's ledger, for the audit trail of reloads
}

// auditor is what a reload needs of the ledger.
type auditor interface {
	Audit(ctx context.Context, e ledger.AuditEvent) error
}

// run reloads on every SIGHUP until ctx ends. A nil reloader does nothing.
func (r *reloader) run(ctx context.Context, g *running) {
	if r == nil {
		return
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-r.hup:
			r.reload(ctx, g)
		}
	}
}

// reload reads the file, builds every piece from it and only then swaps
// them in, so that a failure anywhere leaves the running gateway as it was.
func (r *reloader) reload(ctx context.Context, g *running) {
	log := g.log
	log.Info("reload: reading the configuration")
	next, err := r.load()
	if err != nil {
		logRefusedReload(log, err)
		g.recordReload(ctx, nil, nil, err)
		return
	}
	cfg, restart := config.ForReload(g.cfg, next)
	opts, chk, err := checkedRelayOptions(ctx, cfg, g.st, g.key, log)
	if err == nil {
		// As at start; last of what can fail before the swap, since it
		// writes to the store.
		err = applyLists(ctx, cfg, g.st)
	}
	if err == nil {
		err = g.srv.Reload(opts)
	}
	if err != nil {
		logRefusedReload(log, err)
		g.recordReload(ctx, config.Changed(g.cfg, cfg), restart, err)
		return
	}
	changed := config.Changed(g.cfg, cfg)
	g.check.set(chk)
	g.cfg = cfg
	if len(restart) > 0 {
		log.Warn("reload: these keys need a restart; their running values stay", "keys", strings.Join(restart, ", "))
	}
	log.Info("reloaded: new sessions use the new configuration", "config", cfg)
	// Last, so that the line above is written at the level it was
	// asked at.
	r.level.Set(cfg.Log.Level.Slog())
	g.recordReload(ctx, changed, restart, nil)
}

// recordReload writes a reload to the audit trail: the keys it changed
// and those left for a restart, never their values; a refused reload
// with its error. A reload that cannot be recorded is logged, and stands,
// as a recipient's opt-out does.
func (g *running) recordReload(ctx context.Context, changed, restart []string, refused error) {
	if g.audit == nil {
		return
	}
	e := reloadEvent(changed, restart, refused)
	e.At = time.Now()
	if err := g.audit.Audit(ctx, e); err != nil {
		g.log.Error("reload: the audit trail lacks it", "result", e.Details["result"], "err", err.Error())
	}
}

// reloadEvent is the audit trail's record of a SIGHUP reload.
func reloadEvent(changed, restart []string, refused error) ledger.AuditEvent {
	d := map[string]string{"result": "applied", "pid": strconv.Itoa(os.Getpid())}
	if refused != nil {
		d["result"], d["error"] = "refused", refused.Error()
	}
	if len(changed) > 0 {
		d["changed"] = strings.Join(changed, ",")
	}
	if len(restart) > 0 {
		d["restart"] = strings.Join(restart, ",")
	}
	return ledger.AuditEvent{Actor: "sighup", Action: ledger.ActConfigReload, Details: d}
}

// logRefusedReload logs each problem of a refused file on its own line,
// FILE:LINE: key: message, as config check prints them.
func logRefusedReload(log *slog.Logger, err error) {
	var problems config.Problems
	if errors.As(err, &problems) {
		for _, p := range problems {
			log.Error("reload refused", "problem", p.String())
		}
	} else {
		log.Error("reload refused", "err", err)
	}
	log.Error("reload refused: the running configuration stays")
}

// newLevelLogger is newLogger with its threshold in a LevelVar, which a
// reload sets.
func newLevelLogger(c config.Log, w io.Writer) (*slog.Logger, *slog.LevelVar) {
	level := new(slog.LevelVar)
	level.Set(c.Level.Slog())
	opts := &slog.HandlerOptions{Level: level}
	if c.Format == config.LogJSON {
		return slog.New(slog.NewJSONHandler(w, opts)), level
	}
	return slog.New(slog.NewTextHandler(w, opts)), level
}
