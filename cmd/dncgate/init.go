package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"

	"github.com/dncgate/dncgate/config"
	"github.com/dncgate/dncgate/store"
)

func (a *app) init(ctx context.Context, args []string) error {
	fs := a.newFlags("dncgate init", "", "Create the store: its identity record, the digest key when the embedded store keeps its own, "+
		"the opt-out list and the [[lists]] of the configuration. Run once before any other command; "+
		"on a store that exists it checks the key and applies [[lists]] again.")
	var c common
	c.register(fs)
	force := fs.Bool("force", false, "record a new identity even though the store has data or another key's identity: "+
		"after a store was emptied on purpose, or to adopt a store made by an older dncgate")
	if _, err := fs.parse(args, 0, 0); err != nil {
		return err
	}
	cfg, err := c.load()
	if err != nil {
		return err
	}
	st, err := openOrMakeStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	for _, w := range st.ServerWarnings(ctx) {
		fmt.Fprintln(a.stderr, "dncgate: warning:", w)
	}
	id, created, err := createStore(ctx, cfg, st, *force)
	if err != nil {
		return err
	}
	if err := applyLists(ctx, cfg, st); err != nil {
		return err
	}
	verb := "store exists"
	if created {
		verb = "created store"
	}
	fmt.Fprintf(a.stdout, "%s %s at %s (created %s, key fingerprint %s)\n", verb, id.ID, where(cfg),
		id.CreatedAt.Format(time.RFC3339), id.KeyFingerprint)
	return nil
}

// createStore records the store's identity unless it has one, making the
// digest key file first when the store keeps its own. Without force, a
// store that has data but no identity, or another key's identity, is
// refused. created is false when the identity was there already. The
// store comes back guarded.
func createStore(ctx context.Context, cfg *config.Config, st backend, force bool) (id store.Identity, created bool, err error) {
	id, err = st.Identity(ctx)
	switch {
	case err == nil && !force:
		// The store exists: its key must too, never made anew here.
		return id, false, checkIdentity(ctx, cfg, st)
	case err != nil && !errors.Is(err, store.ErrNoIdentity):
		return id, false, err
	case err != nil && !force:
		if used, err := holdsData(ctx, st); err != nil || used {
			if err == nil {
				err = missingIdentity(ctx, cfg, st)
			}
			return id, false, err
		}
	}
	key, err := cfg.CreateHMACKey()
	if err != nil {
		return id, false, fmt.Errorf("digest key: %w", err)
	}
	if id, err = store.NewIdentity(key, time.Now()); err != nil {
		return id, false, err
	}
	err = st.CreateIdentity(ctx, id, force)
	if errors.Is(err, store.ErrExists) {
		// Another process created it meanwhile: take it, if it is ours.
		id, _ = st.Identity(ctx)
		return id, false, checkIdentity(ctx, cfg, st)
	}
	if err != nil {
		return id, false, err
	}
	st.Guard(id.ID)
	return id, true, nil
}

// serveStore opens the store for serve. The first serve on a data folder
// creates the embedded store; otherwise the store must exist, as for any
// command. A Redis store is never created here: an empty Redis may be one
// that lost its data, so `dncgate init` creates it.
func serveStore(ctx context.Context, cfg *config.Config) (backend, error) {
	if cfg.Store.Backend != config.BackendEmbedded {
		return openChecked(ctx, cfg)
	}
	if _, err := os.Stat(cfg.StorePath()); !errors.Is(err, fs.ErrNotExist) {
		return openChecked(ctx, cfg)
	}
	if cfg.HMACKeyIsOwn() {
		if _, err := os.Stat(cfg.HMACKeyPath()); err == nil {
			return nil, fmt.Errorf("the digest key %s is there but not the store %s: restore the store from the same backup, "+
				"or run `dncgate init` to start a new, empty store with this key", cfg.HMACKeyPath(), cfg.StorePath())
		}
	}
	st, err := openOrMakeStore(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if _, _, err := createStore(ctx, cfg, st, false); err != nil {
		st.Close()
		return nil, err
	}
	return st, nil
}
