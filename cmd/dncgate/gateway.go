package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"github.com/dncgate/dncgate/ledger"
	"github.com/dncgate/dncgate/lists"
	"log/slog"
	"net"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/dncgate/dncgate/auth"
	"github.com/dncgate/dncgate/caps"
	"github.com/dncgate/dncgate/checkapi"
	"github.com/dncgate/dncgate/config"
	"github.com/dncgate/dncgate/internal/connlimit"
	"github.com/dncgate/dncgate/internal/proxied"
	"github.com/dncgate/dncgate/optoutapi"
	"github.com/dncgate/dncgate/relay"
	"github.com/dncgate/dncgate/relay/upstream"
	"github.com/dncgate/dncgate/store"
	"github.com/dncgate/dncgate/suppression"
	"github.com/dncgate/dncgate/unsubscribe"
	"github.com/dncgate/dncgate/web"
)

// drainTimeout is how long running SMTP sessions may go on after SIGTERM.
// A message under way finishes well within it; a client idling in a session
// is cut off rather than holding the stop.
const drainTimeout = 30 * time.Second

// runGateway wires the store, the upstream and the listeners together and
// runs them until ctx ends, then drains.
func runGateway(ctx context.Context, cfg *config.Config, st backend, key []byte, log *slog.Logger, reload *reloader) error {
	target, err := newTarget(cfg)
	if err != nil {
		return err
	}
	defer target.Close()
	gm := newGatewayMetrics(st)
	fwd := upstream.NewForwarder(target, st, upstream.ForwarderOptions{
		DigestKey: key,
		Remember:  cfg.Limits.RememberDelivered.Duration,
		Parallel:  cfg.Upstream.Parallel,
		Metrics:   gm.upstream,
	}, log)
	opts, chk, err := checkedRelayOptions(ctx, cfg, st, key, log)
	if err != nil {
		return err
	}
	led, stopLedger, err := startLedger(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer stopLedger() // on return, once Shutdown has drained the sessions
	notify, err := newNotifier(cfg, st)
	if err != nil {
		return err
	}
	var optOutAudits unsubscribe.Audit
	var reloadAudits auditor
	var bounceLedger, consoleLedger ledger.Ledger
	if led != nil { // nil only with [ledger] enabled = false, bench_only = true
		opts.Ledger, opts.LedgerKey, opts.LedgerSubject = led, key, cfg.Ledger.StoreSubject
		optOutAudits, reloadAudits, bounceLedger, consoleLedger = optOutAudit{led, key, notify}, led, led, led
	} else if notify != nil {
		optOutAudits = optOutAudit{nil, key, notify}
	}
	opts.Metrics = gm.relay
	metricsMounts, err := gm.mounts(cfg, log)
	if err != nil {
		return err
	}
	stopHooks, err := startWebhooks(ctx, cfg, st, gm.webhooks, log)
	if err != nil {
		return err
	}
	defer stopHooks()
	// The HTTP side comes up first: once SMTP listens, health answers too.
	errc := make(chan error, 4)
	bounces, err := startBounces(ctx, cfg, st, key, bounceLedger, notify, target, gm.bounce, log, errc)
	if err != nil {
		return err
	}
	defer bounces.stop(context.Background())
	if bounces.paths != nil {
		opts.ReturnPaths = bounces.paths
	}
	optOut, err := startOptOut(ctx, cfg, st, key, log, errc, optOutAudits)
	if err != nil {
		return err
	}
	login, err := newAuthenticator(ctx, cfg, st, log)
	if err != nil {
		optOut.stop(context.Background())
		return err
	}
	defer login.Flush() // the last-login writes under way reach the store before it closes
	check := newLiveCheck(chk)
	api, err := checkapi.New(checkapi.Options{Check: check, Login: login, TrustedProxies: cfg.Proxies(), Log: log})
	if err != nil {
		optOut.stop(context.Background())
		return err
	}
	mounts := append(optOut.mounts, web.Mount{Pattern: checkapi.Path, Handler: api})
	if led != nil { // the opt-out API keeps who and why in the trail, and reads history from it
		outsAPI, err := optoutapi.New(optoutapi.Options{OptOuts: suppression.NewOptOuts(st, key), Trail: led, Notify: notifyOrNil(notify),
			Login: login, Key: key, TrustedProxies: cfg.Proxies(), Log: log})
		if err != nil {
			optOut.stop(context.Background())
			return err
		}
		mounts = append(mounts, web.Mount{Pattern: optoutapi.Path, Handler: outsAPI}, web.Mount{Pattern: optoutapi.Path + "/", Handler: outsAPI})
	}
	mounts = append(mounts, metricsMounts...)
	cons, err := consoleMounts(ctx, cfg, st, login, consoleLedger, check, key, notify, log)
	if err != nil {
		optOut.stop(context.Background())
		return err
	}
	mounts = append(mounts, cons...)
	mounts = append(mounts, autoconfigMounts(cfg)...)
	stopHTTP, err := startWeb(cfg, st, log, errc, mounts...)
	if err != nil {
		optOut.stop(context.Background())
		return err
	}
	stopWeb := func(ctx context.Context) { stopHTTP(ctx); optOut.stop(ctx) }
	srv, err := relay.New(opts, st, login, fwd, log)
	if err != nil {
		stopWeb(context.Background())
		return err
	}
	go func() { errc <- srv.Serve() }()
	go reload.run(ctx, &running{cfg: cfg, st: st, key: key, log: log, srv: srv, check: check, audit: reloadAudits})
	// The relay logs each listener; this line says where mail goes.
	log.Info("ready", "upstream", upstreamSummary(cfg), "ledger", ledgerSummary(cfg))

	var runErr error
	select {
	case <-ctx.Done():
	case runErr = <-errc:
	}
	log.Info("draining", "deadline", drainTimeout)
	dctx, cancel := context.WithTimeout(context.Background(), drainTimeout)
	defer cancel()
	stopWeb(dctx)
	bounces.stop(dctx)
	if err := srv.Shutdown(dctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return runErr
}

// checkedRelayOptions are the relay's options with what runs on every
// message: the recipient check, the caps, the replies' exemption and each
// recipient's footer; and the checks the HTTP side shares with the relay.
func checkedRelayOptions(ctx context.Context, cfg *config.Config, st backend, key []byte, log *slog.Logger) (relay.Options, checks, error) {
	chk := checks{lists: cfg.Lists}
	opts, err := relayOptions(cfg)
	if err != nil {
		return opts, chk, err
	}
	opts.MaxConns = fitConns(opts.MaxConns, log)
	if chk.caps, err = newChecker(cfg, st, key); err != nil {
		return opts, chk, err
	}
	opts.Caps = relay.CheckerCapper(chk.caps)
	opts.Replies = replies(cfg, st, key)
	opts.Writes = st
	if opts.Recipients, err = recipientRule(cfg); err != nil {
		return opts, chk, err
	}
	if chk.recipients, err = newRecipientCheck(ctx, cfg, st, key); err != nil {
		return opts, chk, err
	}
	opts.Check = chk.recipients
	for _, w := range cfg.PolicyWarnings() {
		log.Warn(w)
	}
	opts.Stamper, err = newStamper(ctx, cfg, st, key, log)
	return opts, chk, err
}

func newTarget(cfg *config.Config) (upstream.Target, error) {
	spec, err := upstream.ParseURL(cfg.UpstreamURL())
	if err != nil {
		return nil, err
	}
	return upstream.NewTarget(spec, upstream.TargetOptions{
		LocalName:          cfg.Server.Hostname,
		CAFile:             cfg.Upstream.CAFile,
		InsecureSkipVerify: !cfg.Upstream.TLSVerify,
		DialTimeout:        cfg.Upstream.ConnectTimeout.Duration,
		CommandTimeout:     cfg.Upstream.CommandTimeout.Duration,
		DataTimeout:        cfg.Upstream.DataTimeout.Duration,
		MaxIdle:            maxIdle(cfg.Upstream.MaxIdleConns),
		IdleTimeout:        cfg.Upstream.IdleTimeout.Duration,
	})
}

// maxIdle maps the config's "0 keeps none" onto the target's "negative keeps
// none" (its zero means the default).
func maxIdle(n int) int {
	if n == 0 {
		return -1
	}
	return n
}

// noLimitIfZero maps the config's "0 means no limit" onto the relay's
// "negative means none" (its zero means the default).
func noLimitIfZero(n int) int {
	if n == 0 {
		return -1
	}
	return n
}

// fdsPerRelayConn is what one relayed client holds in file descriptors:
// its connection, and an upstream one while its message is forwarded.
const fdsPerRelayConn = 2

// fitConns raises the open-file limit as far as the system allows, and
// lowers max so that that many clients fit in it: past the limit a client
// is answered 421, where an accept failing with EMFILE would leave it
// waiting.
func fitConns(max int, log *slog.Logger) int {
	nofile, err := connlimit.RaiseFileLimit()
	if err != nil {
		log.Warn("open-file limit not raised", "err", err, "nofile", nofile)
	}
	if nofile == 0 {
		return max
	}
	fit := connlimit.Fit(max, nofile, fdsPerRelayConn)
	if fit < max {
		log.Warn("limits.max_conns lowered to fit the open-file limit", "max_conns", fit, "configured", max, "nofile", nofile)
	}
	return fit
}

func relayOptions(cfg *config.Config) (relay.Options, error) {
	o := relay.Options{
		Hostname:        cfg.Server.Hostname,
		ReceivedClient:  cfg.Server.ReceivedClient,
		MaxMessageBytes: int64(cfg.Limits.MaxMessageSize),
		MaxRecipients:   cfg.Limits.MaxRecipients,
		MaxLineLength:   cfg.Limits.MaxLineLength,
		ReadTimeout:     cfg.Limits.IdleTimeout.Duration,
		PreAuthTimeout:  cfg.Limits.PreAuthTimeout.Duration,
		SessionTimeout:  cfg.Limits.SessionTimeout.Duration,
		MaxConns:        cfg.Limits.MaxConns,
		MaxConnsPerIP:   noLimitIfZero(cfg.Limits.MaxConnsPerIP),
		MaxErrors:       cfg.Limits.MaxErrors,
		TrustedProxies:  cfg.Proxies(),
	}
	for _, l := range cfg.Listeners {
		rl, err := relayListener(l)
		if err != nil {
			return o, err
		}
		o.Listeners = append(o.Listeners, rl)
	}
	return o, nil
}

// newChecker builds the caps.Checker of the [[caps]] tables on the store,
// or nil when there are none. key names keys and ids in the store, so
// every instance sharing the store (and the caps command) counts under
// the same names.
func newChecker(cfg *config.Config, st caps.Store, key []byte) (*caps.Checker, error) {
	if len(cfg.Caps) == 0 {
		return nil, nil
	}
	c, err := caps.New(capRules(cfg.Caps), st, key, caps.Options{})
	if err != nil {
		return nil, fmt.Errorf("[[caps]]: %w", err)
	}
	return c, nil
}

// replies records the Message-ID of every message forwarded while caps are
// configured, for the longest cap window, whether or not replies are
// exempt yet: turning the exemption on then knows the mail sent before.
func replies(cfg *config.Config, st store.Store, key []byte) relay.Replies {
	var keep time.Duration
	for _, c := range cfg.Caps {
		keep = max(keep, c.Window.Duration)
	}
	if keep == 0 {
		return relay.Replies{}
	}
	return relay.Replies{Sent: st, Key: key, Keep: keep, Exempt: cfg.CapsOpts.ExemptReplies}
}

// capRules converts the [[caps]] tables, defaults filled in.
func capRules(cfgCaps []config.Cap) []caps.Rule {
	rules := make([]caps.Rule, 0, len(cfgCaps))
	for _, c := range cfgCaps {
		c = c.Effective()
		rules = append(rules, caps.Rule{
			Name:      c.Name,
			Scope:     caps.Scope(c.Scope),
			Limit:     c.Limit,
			Window:    c.Window.Duration,
			Count:     caps.Count(c.Count),
			Countries: c.CountryCodes(),
			Temporary: c.Mode == config.CapTempfail,
			Hold:      c.Hold.Duration,
		})
	}
	return rules
}

// newAuthenticator is the one login check of SMTP AUTH and the HTTP side,
// its stand-in hash at the cost the stored users have; it writes each
// user's last login to the store, at most once a minute.
func newAuthenticator(ctx context.Context, cfg *config.Config, st store.Store, log *slog.Logger) (*auth.Authenticator, error) {
	a := cfg.Auth
	return auth.New(auth.Options{
		Users: st, Attempts: st, Cost: storedCost(ctx, st), Remember: rememberLogins,
		Logins: st, LoginNotRecorded: func(name string, err error) {
			log.Warn("last login not recorded", "user", lists.MaskEmail(name), "err", err)
		},
		Limits: auth.Limits{
			Window:           a.FailWindow.Duration,
			SlowAfter:        never(a.SlowAfter),
			BlockAfter:       never(a.BlockAfter),
			ClientBlockAfter: never(a.ClientBlockAfter),
			UserBlockAfter:   never(a.UserBlockAfter),
			MaxDelay:         a.MaxDelay.Duration,
		},
	})
}

// rememberLogins is how long a successful login is remembered, so that an
// integration calling every second, or a mail client connecting for each
// message, does not pay a bcrypt comparison each time.
const rememberLogins = 2 * time.Minute

// storedCost is the bcrypt cost most stored users have, auth.DefaultCost
// (what users add writes) when there are none or they cannot be read.
func storedCost(ctx context.Context, st store.Users) int {
	users, err := st.ListUsers(ctx)
	if err != nil {
		return auth.DefaultCost
	}
	seen := map[int]int{}
	best := auth.DefaultCost
	for _, u := range users {
		if c, err := bcrypt.Cost(u.PasswordHash); err == nil {
			if seen[c]++; seen[c] > seen[best] {
				best = c
			}
		}
	}
	return best
}

// never maps the config's "0 turns it off" onto a count no client reaches
// (auth reads zero as "use the default").
func never(n int) int {
	if n == 0 {
		return auth.Never
	}
	return n
}

func relayListener(l config.Listener) (relay.Listener, error) {
	rl := relay.Listener{Name: l.Label(), Addr: l.Address, AllowInsecureAuth: l.AllowInsecureAuth, ProxyProtocol: l.ProxyProtocol}
	switch l.TLS {
	case config.TLSStartTLS:
		rl.Mode = relay.ModeStartTLS
	case config.TLSImplicit:
		rl.Mode = relay.ModeImplicitTLS
	default:
		rl.Mode = relay.ModePlain
	}
	if l.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(l.CertFile, l.KeyFile)
		if err != nil {
			return rl, fmt.Errorf("listener %s: certificate: %w", l.Label(), err)
		}
		rl.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	for _, t := range l.Trusted {
		rl.Trusted = append(rl.Trusted, relay.TrustedNet{Net: t.Prefix(), Identity: t.Identity})
	}
	if l.OnRefusal != config.RejectAtRcpt {
		rl.OnRefusal = relay.DropAndNotify
	}
	return rl, nil
}

// startWeb starts the HTTP side with the mounts when web.listen is set;
// the returned func stops it.
func startWeb(cfg *config.Config, st store.Store, log *slog.Logger, errc chan<- error, mounts ...web.Mount) (func(context.Context), error) {
	if cfg.Web.Listen == "" {
		return func(context.Context) {}, nil
	}
	w, err := web.New(cfg.Web.Listen, st, log, mounts...)
	if err != nil {
		return nil, fmt.Errorf("web listener: %w", err)
	}
	if cfg.Web.ProxyProtocol {
		w.Wrap(func(ln net.Listener) net.Listener {
			return proxied.Listen(ln, proxied.Options{Trusted: cfg.Proxies(), Log: log.With("listener", "web")})
		})
	}
	go func() {
		if err := w.Serve(); err != nil {
			errc <- err
		}
	}()
	log.Info("web listening", "addr", w.Addr().String())
	return func(ctx context.Context) { w.Shutdown(ctx) }, nil
}

func upstreamSummary(cfg *config.Config) string {
	spec, err := upstream.ParseURL(cfg.UpstreamURL())
	if err != nil {
		return "invalid"
	}
	return spec.String()
}
