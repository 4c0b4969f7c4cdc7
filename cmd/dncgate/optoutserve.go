package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"log/slog"
	"strings"
	"time"

	"github.com/dncgate/dncgate/config"
	"github.com/dncgate/dncgate/listdb"
	"github.com/dncgate/dncgate/suppression"
	"github.com/dncgate/dncgate/unsubscribe"
	"github.com/dncgate/dncgate/web"
)

// csrfKeyInfo derives the unsubscribe form's CSRF key from the digest key,
// so every instance sharing the configuration accepts the others' forms.
const csrfKeyInfo = "dncgate unsubscribe csrf key v1"

// optOutSide is the recipients' way to opt out: the unsubscribe handler
// for the web listener and, when configured, the mailto listener.
type optOutSide struct {
	mounts []web.Mount
	mailto *unsubscribe.Mailto
}

// startOptOut makes sure the opt-out list exists, builds the unsubscribe
// handler when the web side is on and starts the mailto listener when
// unsubscribe.mailto_listen is set; its errors go to errc. audit, when
// set, is told of each opt-out with its source.
func startOptOut(ctx context.Context, cfg *config.Config, st backend, key []byte, log *slog.Logger, errc chan<- error, audit unsubscribe.Audit) (*optOutSide, error) {
	if err := suppression.EnsureOptOut(ctx, st); err != nil {
		return nil, err
	}
	side := &optOutSide{}
	if cfg.Web.Listen == "" && cfg.Unsubscribe.MailtoListen == "" {
		return side, nil
	}
	keys, _, err := unsubscribeKeys(ctx, cfg, st, false)
	if err != nil {
		return nil, err
	}
	outs := suppression.NewOptOuts(st, key)
	if cfg.Web.Listen != "" {
		o := handlerOptions(cfg, keys, outs, key, log)
		o.Audit = audit
		h, err := unsubscribe.NewHandler(o)
		if err != nil {
			return nil, err
		}
		side.mounts = []web.Mount{{Pattern: unsubscribe.PathPrefix, Handler: h}}
		if f, _ := cfg.FooterDetails(); f.Enabled {
			ph, err := unsubscribe.NewPrivacyHandler(privacyPage(cfg, st))
			if err != nil {
				return nil, err
			}
			side.mounts = append(side.mounts, web.Mount{Pattern: unsubscribe.PrivacyPath, Handler: ph})
		}
	}
	if cfg.Unsubscribe.MailtoListen != "" {
		if side.mailto, err = startMailto(cfg, keys, outs, audit, log, errc); err != nil {
			return nil, err
		}
	}
	return side, nil
}

func handlerOptions(cfg *config.Config, keys unsubscribe.Keys, outs unsubscribe.OptOuts, key []byte, log *slog.Logger) unsubscribe.Options {
	f, _ := cfg.FooterDetails()
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(csrfKeyInfo))
	return unsubscribe.Options{
		Keyring:        keys.Ring,
		Org:            keys.Org,
		EarlierOrgs:    keys.Earlier,
		Company:        f.Company,
		Contact:        f.PrivacyContact,
		MailtoDomain:   cfg.Unsubscribe.MailtoDomain,
		MaxAge:         cfg.Unsubscribe.TokenMaxAge.Duration,
		OptOuts:        outs,
		Log:            log,
		RatePerMinute:  cfg.UnsubscribeRate(),
		TrustedProxies: cfg.Proxies(),
		CSRFKey:        mac.Sum(nil),
	}
}

// privacyPage is what the processing page shows: the footer's details,
// the store's lists and the ledger's retention.
func privacyPage(cfg *config.Config, st listdb.Store) unsubscribe.Privacy {
	f, _ := cfg.FooterDetails()
	const day = 24 * time.Hour
	return unsubscribe.Privacy{
		Company: f.Company, PostalAddress: f.PostalAddress, Contact: f.PrivacyContact,
		Source: f.Source, Purpose: f.Purpose, LegalBasis: f.LegalBasis,
		SentDays:    int(cfg.Ledger.Retention.Sent.Duration / day),
		RefusedDays: int(cfg.Ledger.Retention.Refused.Duration / day),
		Lists: func(ctx context.Context) ([]string, error) {
			infos, err := st.Lists(ctx)
			if err != nil {
				return nil, err
			}
			names := make([]string, 0, len(infos))
			for _, in := range infos {
				names = append(names, listLabel(in.Meta))
			}
			return names, nil
		},
	}
}

// listLabel names a list for a recipient: its name, countries and source.
func listLabel(m listdb.Meta) string {
	label := m.Name
	if len(m.Countries) > 0 {
		label += " (" + strings.Join(m.Countries, ", ") + ")"
	}
	if m.Source != "" {
		label += ": " + m.Source
	}
	return label
}

func startMailto(cfg *config.Config, keys unsubscribe.Keys, outs unsubscribe.OptOuts, audit unsubscribe.Audit, log *slog.Logger, errc chan<- error) (*unsubscribe.Mailto, error) {
	m, err := unsubscribe.NewMailto(unsubscribe.MailtoOptions{
		Addr:        cfg.Unsubscribe.MailtoListen,
		Domain:      cfg.Unsubscribe.MailtoDomain,
		Hostname:    cfg.Server.Hostname,
		Keyring:     keys.Ring,
		Org:         keys.Org,
		EarlierOrgs: keys.Earlier,
		MaxAge:      cfg.Unsubscribe.TokenMaxAge.Duration,
		OptOuts:     outs,
		Audit:       audit,
		Log:         log,
	})
	if err != nil {
		return nil, err
	}
	go func() {
		if err := m.Serve(); err != nil {
			errc <- err
		}
	}()
	log.Info("mailto unsubscribe listening", "addr", m.Addr().String(), "domain", cfg.Unsubscribe.MailtoDomain)
	return m, nil
}

// stop ends the mailto listener, waiting for its sessions until ctx ends.
func (s *optOutSide) stop(ctx context.Context) {
	if s.mailto != nil {
		s.mailto.Shutdown(ctx)
	}
}
