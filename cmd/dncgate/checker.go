package main

import (
	"context"
	"fmt"

	"github.com/dncgate/dncgate/config"
	"github.com/dncgate/dncgate/listdb"
	"github.com/dncgate/dncgate/lists"
	"github.com/dncgate/dncgate/suppression"
)

// newRecipientCheck builds the recipient check on the store and reads the
// country policy. It writes nothing: the opt-out list and the [[lists]]
// declarations are written by serve and init (applyLists), so a command
// run with another configuration cannot change the lists the gateway uses.
func newRecipientCheck(ctx context.Context, cfg *config.Config, st backend, key []byte) (*suppression.Checker, error) {
	pol, err := suppression.NewPolicy(cfg.Policy)
	if err != nil {
		return nil, fmt.Errorf("policy: %w", err)
	}
	rcpts, err := recipientRule(cfg)
	if err != nil {
		return nil, err
	}
	return suppression.New(suppression.Options{Lists: st, Policy: pol, Key: key, Recipients: rcpts, Contacts: st.Contacts()})
}

// recipientRule is what may be a recipient, for the relay and the check.
func recipientRule(cfg *config.Config) (*lists.Recipients, error) {
	r, err := lists.NewRecipients(cfg.Relay.RerouteOKDomains)
	if err != nil {
		return nil, fmt.Errorf("relay.reroute_ok_domains: %w", err)
	}
	return r, nil
}

// applyLists makes the opt-out list when missing and creates or updates
// the lists declared in the configuration.
func applyLists(ctx context.Context, cfg *config.Config, db backend) error {
	if err := suppression.EnsureOptOut(ctx, db); err != nil {
		return err
	}
	return declareLists(ctx, db, cfg.Lists)
}

// declareLists writes the [[lists]] tables into the store. The
// configuration wins over what the CLI set for the same list; entries and
// versions are left as they are.
func declareLists(ctx context.Context, db listdb.Store, decls []config.ListDecl) error {
	for _, d := range decls {
		if err := db.PutList(ctx, declMeta(d)); err != nil {
			return fmt.Errorf("list %s: %w", d.Name, err)
		}
	}
	return nil
}

// declMeta is a [[lists]] table as the store describes a list.
func declMeta(d config.ListDecl) listdb.Meta {
	return listdb.Meta{
		Name: d.Name, Kind: d.Kind, Model: d.Model, Countries: d.CountryCodes(),
		MaxAge: d.MaxAge.Duration, Source: d.Source, WarnStale: d.WarnStale(), KeepVersions: d.Keep(),
	}
}

// withChecker loads the configuration, opens the store and runs f with the
// recipient check.
func withChecker(ctx context.Context, c *common, f func(*suppression.Checker) error) error {
	return c.withConfigStore(ctx, func(cfg *config.Config, st backend) error {
		key, err := cfg.HMACKey()
		if err != nil {
			return fmt.Errorf("digest key: %w", err)
		}
		chk, err := newRecipientCheck(ctx, cfg, st, key)
		if err != nil {
			return err
		}
		return f(chk)
	})
}
