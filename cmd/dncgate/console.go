package main

import (
	"context"
	"errors"
	"log/slog"

	"github.com/dncgate/dncgate/auth"
	"github.com/dncgate/dncgate/config"
	"github.com/dncgate/dncgate/console"
	"github.com/dncgate/dncgate/console/totp"
	"github.com/dncgate/dncgate/ledger"
	"github.com/dncgate/dncgate/suppression"
	"github.com/dncgate/dncgate/web"
	"github.com/dncgate/dncgate/webhook"
)

// consoleMounts is the web console when [console] enables it: logins
// through the gateway's one Authenticator, sessions, second factors,
// users, lists and contacts in the store, decisions and audit events in
// the ledger; prospect files are checked, an erasure resets the caps and an
// upload reads its list's max_removal through live, the checks of the
// configuration in force. Uploads run under ctx, serve's own.
func consoleMounts(ctx context.Context, cfg *config.Config, st backend, login *auth.Authenticator, led ledger.Ledger, live *liveCheck, key []byte, notify *webhook.Notifier, log *slog.Logger) ([]web.Mount, error) {
	if !cfg.Console.Enabled {
		return nil, nil
	}
	if led == nil {
		return nil, errors.New("[console] enabled needs the ledger, for its audit trail: [ledger] bench_only = true leaves none")
	}
	logo, logoType, err := cfg.ConsoleLogo()
	if err != nil {
		return nil, err
	}
	c, err := console.New(console.Options{
		Users: st, Accounts: st, Sessions: st, Login: login, Audit: led, Ledger: led, DigestKey: key,
		Lists: st, Contacts: st.Contacts(), Checker: live, MaxRemoval: live.maxRemoval, Background: ctx,
		Erasure: &suppression.Erasure{OptOuts: suppression.NewOptOuts(st, key), Contacts: st.Contacts(), Caps: suppression.CurrentCaps(live.currentCaps)},
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
