package main

import (
	"context"
	"fmt"
	"github.com/dncgate/dncgate/lists"
	"log/slog"

	"github.com/dncgate/dncgate/config"
	"github.com/dncgate/dncgate/footer"
	"github.com/dncgate/dncgate/footer/lang"
	"github.com/dncgate/dncgate/relay"
	"github.com/dncgate/dncgate/relay/rewrite"
	"github.com/dncgate/dncgate/relay/stamp"
	"github.com/dncgate/dncgate/store"
	"github.com/dncgate/dncgate/unsubscribe"
)

// newStamper builds what gives each recipient's copy its footer,
// unsubscribe headers and DKIM signature. With the footer off it still
// takes the Bcc fields out of every copy. key authenticates the footer
// marker: every instance sharing the store shares it.
func newStamper(ctx context.Context, cfg *config.Config, st store.Identities, key []byte, log *slog.Logger) (relay.Stamper, error) {
	f, samples := cfg.FooterDetails()
	d, err := dkimSigner(cfg.DKIM)
	if err != nil {
		return nil, err
	}
	o := stamp.Options{NoFooter: !f.Enabled, DKIM: d, Key: key}
	if f.Enabled {
		if err := footerOptions(ctx, cfg, st, f, &o, log); err != nil {
			return nil, err
		}
		for _, w := range cfg.FooterWarnings() {
			log.Warn(w)
		}
		log.Info("footer on", "samples", samples, "unsubscribe", o.BaseURL, "mailto", o.MailtoDomain, "signed", f.Signed)
	}
	s, err := stamp.New(o)
	if err != nil {
		return nil, err
	}
	return stamper{s}, nil
}

// stamper makes a *stamp.Stamper the relay's Stamper: package stamp does
// not import the relay, so its Prepare returns its own type.
type stamper struct{ s *stamp.Stamper }

var _ relay.Stamped = (*stamp.Prepared)(nil)

func (a stamper) Prepare(body []byte, rep string) (relay.Stamped, error) {
	p, err := a.s.Prepare(body, rep)
	if err != nil {
		return nil, err // not a nil *Prepared inside the interface
	}
	return p, nil
}

// footerTemplates loads the shipped templates and those of
// footer.templates_dir.
func footerTemplates(f config.Footer) (*footer.Templates, error) {
	override, err := f.TemplatesFS()
	if err != nil {
		return nil, fmt.Errorf("footer.templates_dir: %w", err)
	}
	return footer.New(override, f.FallbackLanguage)
}

// checkFooter loads the templates as serve will, so that a mistake in a
// file or a fallback language without templates shows among the
// configuration's problems, at its key.
func checkFooter(c *config.Config, problem func(key string, err error)) {
	f := c.Footer
	if !f.Enabled || (f.TemplatesDir == "" && f.FallbackLanguage == lang.Default) {
		return
	}
	if _, err := f.TemplatesFS(); err != nil {
		return // the configuration reports it
	}
	if _, err := footerTemplates(f); err != nil {
		key := "footer.templates_dir"
		if f.TemplatesDir == "" {
			key = "footer.fallback_language"
		}
		problem(key, err)
	}
}

func footerOptions(ctx context.Context, cfg *config.Config, st store.Identities, f config.Footer, o *stamp.Options, log *slog.Logger) error {
	tpl, err := footerTemplates(f)
	if err != nil {
		return err
	}
	keys, created, err := unsubscribeKeys(ctx, cfg, st, true)
	if err != nil {
		return err
	}
	warnKeysOrg(cfg, keys, log)
	if created && cfg.Store.Backend == config.BackendRedis {
		// Another instance's endpoint could not open this one's links.
		log.Warn("created a new unsubscribe key file: copy it to every instance sharing the store", "file", cfg.UnsubscribeKeysPath())
	}
	o.Templates, o.Keyring = tpl, keys.Ring
	o.Details, o.PrivacyPage = footerVars(cfg, f), f.PrivacyURL == ""
	o.Org, o.BaseURL, o.MailtoDomain = keys.Org, cfg.UnsubscribeBaseURL(), cfg.Unsubscribe.MailtoDomain
	if f.Signed == config.SignedRefuse {
		o.Signed = rewrite.Refuse
	}
	return nil
}

// warnKeysOrg says which organisation tokens are sealed to when it is not
// the configured one, and warns about a key file that names none (made
// before key files did), whose links a rename would break.
func warnKeysOrg(cfg *config.Config, keys unsubscribe.Keys, log *slog.Logger) {
	file := cfg.UnsubscribeKeysPath()
	switch {
	case !keys.Pinned:
		log.Warn("the unsubscribe key file names no organisation: renaming the server would break every link sent; add the line \"org "+keys.Org+"\" to it",
			"file", file, "org", keys.Org)
	case keys.Org != cfg.UnsubscribeOrg():
		log.Info("unsubscribe tokens are sealed to the key file's organisation, not the configured one", "file", file,
			"org", keys.Org, "configured", cfg.UnsubscribeOrg())
	}
}

func dkimSigner(c config.DKIM) (*stamp.DKIM, error) {
	if c.Domain == "" {
		return nil, nil
	}
	k, err := config.LoadDKIMKey(c.KeyFile)
	if err != nil {
		return nil, fmt.Errorf("dkim: %w", err)
	}
	return &stamp.DKIM{Domain: c.Domain, Selector: c.Selector, Signer: k}, nil
}

// footerVars are the footer's values from the configuration: the details
// of [footer] (f, the sample ones when none are set; without a
// privacy_url, the gateway's processing page), each language's
// wording, and what the notice says is kept and for how long.
func footerVars(cfg *config.Config, f config.Footer) footer.Vars {
	if f.PrivacyURL == "" {
		// The gateway's own processing page (the stamp adds each copy's
		// language to the link).
		f.PrivacyURL = cfg.PrivacyPageURL()
	}
	v := footer.Vars{
		Company: footer.NewText(f.Company), PostalAddress: footer.NewText(f.PostalAddress),
		PrivacyURL: footer.NewText(f.PrivacyURL), PrivacyContact: footer.NewText(f.PrivacyContact),
		Source: footer.NewText(f.Source), Purpose: footer.NewText(f.Purpose), LegalBasis: footer.NewText(f.LegalBasis),
		Retention: cfg.Ledger.Retention.Sent.Duration,
	}
	for tag, l := range f.Lang {
		if v.Local == nil {
			v.Local = map[string]footer.Local{}
		}
		v.Local[lang.Norm(tag)] = footer.Local{Source: footer.NewText(l.Source), Purpose: footer.NewText(l.Purpose),
			LegalBasis: footer.NewText(l.LegalBasis)}
	}
	for _, d := range cfg.Lists {
		if d.Kind == lists.KindPhone.String() {
			v.KeepsPhones = true // the CRM's numbers are kept, as digests, to match those lists
		}
	}
	return v
}
