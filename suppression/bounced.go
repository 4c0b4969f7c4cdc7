package suppression

import (
	"context"
	"errors"
	"fmt"

	"github.com/dncgate/dncgate/listdb"
	"github.com/dncgate/dncgate/listmodel"
)

// BouncedMeta describes the bounced list (listmodel.Bounced) as
// EnsureBounced creates it: a deny list for every country that never goes
// stale, holding the keyed digest of each recipient whose mailbox failed.
var BouncedMeta = listdb.Meta{
	Name:   listmodel.Bounced,
	Kind:   "email",
	Model:  listmodel.Deny,
	Source: "recipients whose mailbox failed for good, from the bounces received",
}

// EnsureBounced creates the bounced list when the store has none yet; an
// existing one is left as it is.
func EnsureBounced(ctx context.Context, db listdb.Store) error {
	_, _, err := db.List(ctx, listmodel.Bounced)
	if err == nil {
		return nil
	}
	if !errors.Is(err, listdb.ErrNotFound) {
		return fmt.Errorf("bounced list: %w", err)
	}
	if err := db.PutList(ctx, BouncedMeta); err != nil {
		return fmt.Errorf("creating the bounced list: %w", err)
	}
	return nil
}

// Suppress puts the digest d on the list named by list (listmodel.OptOut
// or listmodel.Bounced) unless it is already there, and reports whether
// it added it, so a bounce received twice is recorded once. d is the
// keyed digest OptOuts.Digest gives of the address.
func Suppress(ctx context.Context, db entries, list string, d listdb.Digest) (bool, error) {
	got, err := db.Contains(ctx, list, d)
	if err != nil {
		return false, fmt.Errorf("%s list: checking: %w", list, err)
	}
	if got[0] {
		return false, nil
	}
	if err := db.AddEntry(ctx, list, d); err != nil {
		return false, fmt.Errorf("%s list: recording: %w", list, err)
	}
	return true, nil
}

// entries is what Suppress needs of a list store.
type entries interface {
	Contains(ctx context.Context, name string, digests ...listdb.Digest) ([]bool, error)
	AddEntry(ctx context.Context, name string, d listdb.Digest) error
}
