package suppression

import (
	"context"
	"errors"
	"fmt"

	"github.com/dncgate/dncgate/listdb"
	"github.com/dncgate/dncgate/listmodel"
	"github.com/dncgate/dncgate/lists"
)

// OptOutMeta describes the opt-out list (listmodel.OptOut) as EnsureOptOut
// creates it. It always exists, governs every country, is checked for
// every recipient and never goes stale.
var OptOutMeta = listdb.Meta{
	Name:   listmodel.OptOut,
	Kind:   "email",
	Model:  listmodel.Deny,
	Source: "recipients who unsubscribed, and opt-outs added by admins",
}

// EnsureOptOut creates the opt-out list when the store has none yet; an
// existing one is left as it is.
func EnsureOptOut(ctx context.Context, db listdb.Store) error {
	_, _, err := db.List(ctx, listmodel.OptOut)
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

// OptOuts records and answers opt-outs on the opt-out list. The list holds
// only the keyed digest of each normalised address: it is also the
// tombstone that keeps an erased person suppressed.
type OptOuts struct {
	db  listdb.Store
	key []byte
}

// NewOptOuts returns opt-outs kept in db under the digest key key (the
// configured privacy key, the same on every instance).
func NewOptOuts(db listdb.Store, key []byte) *OptOuts {
	return &OptOuts{db: db, key: key}
}

// Digest is the opt-out list entry of addr: the keyed digest of its
// normalised form, so "J.Doe+news@ACME.fr" and "j.doe@acme.fr" are one
// person.
func (o *OptOuts) Digest(addr string) (listdb.Digest, error) {
	norm, err := lists.NormaliseEmail(addr)
	if err != nil {
		return listdb.Digest{}, fmt.Errorf("opt-out: %w", err)
	}
	return listdb.Key(o.key, lists.KindEmail.String(), norm), nil
}

// OptOut puts addr on the opt-out list. Doing it twice is harmless, so a
// repeated click or a second mail provider request is not an error.
func (o *OptOuts) OptOut(ctx context.Context, addr string) error {
	d, err := o.Digest(addr)
	if err != nil {
		return err
	}
	if err := o.db.AddEntry(ctx, listmodel.OptOut, d); err != nil {
		return fmt.Errorf("opt-out: recording: %w", err)
	}
	return nil
}

// IsOptedOut reports whether addr is on the opt-out list.
func (o *OptOuts) IsOptedOut(ctx context.Context, addr string) (bool, error) {
	d, err := o.Digest(addr)
	if err != nil {
		return false, err
	}
	got, err := o.db.Contains(ctx, listmodel.OptOut, d)
	if err != nil {
		return false, fmt.Errorf("opt-out: checking: %w", err)
	}
	return got[0], nil
}
