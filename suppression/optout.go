package suppression

import (
	"context"
	"errors"
	"fmt"

	"github.com/dncgate/dncgate/listdb"
)

// OptOutList is the company's own opt-out list: everyone who unsubscribed
// or whom an admin opted out. It always exists, governs every country, is
// checked for every recipient and never goes stale.
const OptOutList = "opt-out"

// OptOutMeta describes the opt-out list as EnsureOptOut creates it.
var OptOutMeta = listdb.Meta{
	Name:   OptOutList,
	Kind:   "email",
	Model:  "deny",
	Source: "recipients who unsubscribed, and opt-outs added by admins",
}

// EnsureOptOut creates the opt-out list when the store has none yet; an
// existing one is left as it is.
func EnsureOptOut(ctx context.Context, db listdb.Store) error {
	_, _, err := db.List(ctx, OptOutList)
	if err == nil {
		return nil
	}
	if !errors.Is(err, listdb.ErrNotFound) {
		return fmt.Errorf("opt-out list: %w", err)
	}
	if err := db.PutList(ctx, OptOutMeta); err != nil {
		return fmt.Errorf("creating the opt-out list: %w", err)
	}
	return nil
}
