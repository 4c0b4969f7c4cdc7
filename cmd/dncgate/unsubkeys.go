package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/dncgate/dncgate/config"
	"github.com/dncgate/dncgate/store"
	"github.com/dncgate/dncgate/unsubscribe"
)

// unsubscribeKeys loads the unsubscribe key file. A missing file is made
// only while the store has never sent links: after that, a new key would
// break every link already in the recipients' mailboxes, so it is
// refused. sealing says the gateway is about to stamp links with it,
// which the store then records. created reports a file made here.
func unsubscribeKeys(ctx context.Context, cfg *config.Config, st store.Identities, sealing bool) (keys unsubscribe.Keys, created bool, err error) {
	path := cfg.UnsubscribeKeysPath()
	id, err := st.Identity(ctx)
	if err != nil {
		return keys, false, fmt.Errorf("unsubscribe keys: %w", err)
	}
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		if id.LinksSent {
			return keys, false, fmt.Errorf("the unsubscribe key file %s is missing, and this store has sent unsubscribe links sealed with it: "+
				"restore it from the backup (or copy it from another instance sharing the store); a new key would break every link already sent", path)
		}
		created = true
	}
	if keys, err = unsubscribe.LoadKeys(path, true, cfg.UnsubscribeOrg()); err != nil {
		return keys, false, err
	}
	if sealing && !id.LinksSent {
		if err := st.MarkLinksSent(ctx); err != nil {
			return keys, false, fmt.Errorf("unsubscribe keys: %w", err)
		}
	}
	return keys, created, nil
}
