package main

import (
	"context"
	"github.com/dncgate/dncgate/webhook"
	"log/slog"

	"github.com/dncgate/dncgate/auth"
	"github.com/dncgate/dncgate/config"
	"github.com/dncgate/dncgate/console"
	"github.com/dncgate/dncgate/console/totp"
	"github.com/dncgate/dncgate/ledger"
	"github.com/dncgate/dncgate/store"
	"github.com/dncgate/dncgate/web"
)

// consoleMounts is the web console when [console] enables it: logins
// through the gateway's one Authenticator, sessions and second factors in
// the store, decisions and audit events in the ledger.
func consoleMounts(cfg *config.Config, st store.Store, login *auth.Authenticator, led ledger.Ledger, key []byte, notify *webhook.Notifier, log *slog.Logger) ([]web.Mount, error) {
	if !cfg.Console.Enabled {
		return nil, nil
	}
	logo, logoType, err := cfg.ConsoleLogo()
	if err != nil {
		return nil, err
	}
	c, err := console.New(console.Options{
		Users: st, Sessions: st, Login: login, Audit: led, Ledger: led, DigestKey: key,
		Second:  totp.New(st, cfg.Footer.Company),
		Company: cfg.Footer.Company, Logo: logo, LogoType: logoType,
		Insecure: cfg.Console.InsecureCookie,
		Idle:     cfg.Console.SessionIdle.Duration, Max: cfg.Console.SessionMax.Duration,
		TrustedProxies: cfg.Proxies(), Log: log.With("part", "console"),
		CRM: func(ctx context.Context, typ webhook.Type, addr, actor string) error {
			return notify.Notify(ctx, optOutEvent(typ, key, addr, ledger.SourceConsole, actor))
		},
	})
	if err != nil {
		return nil, err
	}
	return []web.Mount{{Pattern: console.Prefix, Handler: c}}, nil
}
