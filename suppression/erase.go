package suppression

import (
	"context"
	"fmt"

	"github.com/dncgate/dncgate/contactdb"
	"github.com/dncgate/dncgate/lists"
)

// CapCounts forgets what the recipient caps counted for an address
// (caps.Checker does).
type CapCounts interface {
	ForgetRecipient(ctx context.Context, rcpt string) (int, error)
}

// Erasure is what an erasure request reaches: the opt-out list, and the
// contacts and cap counts when the store keeps them (nil when not).
type Erasure struct {
	OptOuts  *OptOuts
	Contacts contactdb.Store
	Caps     CapCounts
}

// ContactErased says what became of the person's CRM contact record.
type ContactErased string

const (
	ContactDeleted ContactErased = "deleted"
	ContactNone    ContactErased = "none held"
	ContactNotKept ContactErased = "none kept by this store"
)

// Erased is what Erase did.
type Erased struct {
	Contact ContactErased
	// CapCounts is how many recipient caps had their counts reset.
	CapCounts int
}

// Erase answers an erasure request (GDPR Art. 17): it opts addr out, if
// it is not already, and deletes its CRM contact record and its counts in
// the recipient caps. What remains is the keyed digest on the opt-out
// list, which keeps the person suppressed without naming them. The
// opt-out comes first: whatever fails after it, the person is no longer
// written to.
//
// addr is normalised first, as the relay does (case, +tags, Gmail dots):
// the opt-out, the contact and the caps all know the person by it.
func (e Erasure) Erase(ctx context.Context, addr string) (Erased, error) {
	var done Erased
	addr, err := lists.NormaliseEmail(addr)
	if err != nil {
		return done, fmt.Errorf("erasure: %w", err)
	}
	if err := e.OptOuts.OptOut(ctx, addr); err != nil {
		return done, err
	}
	if done.Contact, err = e.forgetContact(ctx, addr); err != nil {
		return done, err
	}
	if e.Caps != nil {
		if done.CapCounts, err = e.Caps.ForgetRecipient(ctx, addr); err != nil {
			return done, err
		}
	}
	return done, nil
}

func (e Erasure) forgetContact(ctx context.Context, addr string) (ContactErased, error) {
	if e.Contacts == nil {
		return ContactNotKept, nil
	}
	d, err := e.OptOuts.Digest(addr)
	if err != nil {
		return "", err
	}
	_, found, err := e.Contacts.Contact(ctx, d)
	if err != nil {
		return "", fmt.Errorf("reading the contact record: %w", err)
	}
	if !found {
		return ContactNone, nil
	}
	if err := e.Contacts.Forget(ctx, d); err != nil {
		return "", fmt.Errorf("deleting the contact record: %w", err)
	}
	return ContactDeleted, nil
}
