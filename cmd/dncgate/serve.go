package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/dncgate/dncgate/config"
	"github.com/dncgate/dncgate/store/embedded"
)

// serveFlags are the settings serve takes from its command line.
type serveFlags struct {
	common
	listen, upstream, redis, webListen string
}

func (a *app) serve(ctx context.Context, args []string) error {
	fs := a.newFlags("dncgate serve", "", "Run the SMTP gateway until SIGINT or SIGTERM; SIGHUP reloads the configuration.\nFlags override the configuration.")
	var f serveFlags
	f.register(fs)
	fs.StringVar(&f.listen, "listen", "", "serve one plain listener on `ADDR` (host:port) instead of the configured ones")
	fs.StringVar(&f.upstream, "upstream", "", "upstream `URL`, overriding upstream.url")
	fs.StringVar(&f.redis, "redis", "", "use the redis store at `URL`, overriding [store]")
	fs.StringVar(&f.webListen, "web-listen", "", "serve HTTP on `ADDR`, overriding web.listen")
	if _, err := fs.parse(args, 0, 0); err != nil {
		return err
	}
	reload := newReloader(func() (*config.Config, error) { return f.load(f.apply) }, nil)
	defer reload.stop()
	cfg, err := f.load(f.apply)
	if err != nil {
		return err
	}
	log, level := newLevelLogger(cfg.Log, a.stderr)
	reload.level = level
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	// The first signal starts a graceful stop; restoring the default
	// handlers lets a second one end a stop that hangs.
	go func() {
		<-ctx.Done()
		stop()
	}()
	return serveWith(ctx, cfg, log, reload)
}

// apply lays the flags that were given over the configuration.
func (f *serveFlags) apply(cfg *config.Config) {
	if f.listen != "" {
		cfg.Listeners = []config.Listener{{Name: "listen-flag", Address: f.listen, TLS: config.TLSNone, OnRefusal: config.DropAndNotify}}
		cfg.MarkOverridden("listener")
	}
	if f.upstream != "" {
		cfg.Upstream.URL = f.upstream
		cfg.MarkOverridden("upstream.url")
	}
	if f.redis != "" {
		cfg.Store.Backend, cfg.Store.RedisURL, cfg.Store.RedisCluster = config.BackendRedis, f.redis, nil
		cfg.MarkOverridden("store.backend", "store.redis_url", "store.redis_cluster")
	}
	if f.webListen != "" {
		cfg.Web.Listen = f.webListen
		cfg.MarkOverridden("web.listen")
	}
}

// serveWith opens what the gateway needs and runs it until ctx ends.
// SIGHUP reloads the configuration through reload (nil: no reloads).
func serveWith(ctx context.Context, cfg *config.Config, log *slog.Logger, reload *reloader) error {
	if err := os.MkdirAll(cfg.Server.DataDir, 0o700); err != nil {
		return fmt.Errorf("data folder: %w", err)
	}
	// A restore takes this lock alone: no serve starts while one writes,
	// and none runs while one starts.
	unlock, err := embedded.LockServe(serveLockPath(cfg))
	if err != nil {
		return fmt.Errorf("%w: start serve once it is done", err)
	}
	defer unlock()
	st, err := serveStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	for _, w := range st.ServerWarnings(ctx) {
		log.Warn(w)
	}
	if err := applyLists(ctx, cfg, st); err != nil {
		return err
	}
	key, err := cfg.HMACKey()
	if err != nil {
		return fmt.Errorf("digest key: %w", err)
	}
	log.LogAttrs(ctx, slog.LevelInfo, "starting", append([]slog.Attr{slog.String("version", buildVersion())}, cfg.Summary()...)...)
	log.Debug("configuration", "config", cfg)
	if note := ledgerScope(cfg); note != "" {
		log.Warn("ledger: " + note)
	}
	if err := runGateway(ctx, cfg, st, key, log, reload); err != nil {
		return err
	}
	log.Info("stopped")
	return nil
}

func newLogger(c config.Log, w io.Writer) *slog.Logger {
	log, _ := newLevelLogger(c, w)
	return log
}
