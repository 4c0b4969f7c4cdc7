package suppression

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/dncgate/dncgate/contactdb"
	"github.com/dncgate/dncgate/ledger"
	"github.com/dncgate/dncgate/lists"
)

// CapCounts forgets what the recipient caps counted for an address
// (caps.Checker does).
type CapCounts interface {
	ForgetRecipient(ctx context.Context, rcpt string) (int, error)
}

// CurrentCaps is CapCounts for caps that change while the gateway runs (a
// reload): each erasure asks for the caps in force, nil when there are
// none, and resets the address in those.
type CurrentCaps func() CapCounts

// ForgetRecipient resets rcpt in the caps in force; 0 with none.
func (f CurrentCaps) ForgetRecipient(ctx context.Context, rcpt string) (int, error) {
	c := f()
	if c == nil {
		return 0, nil
	}
	return c.ForgetRecipient(ctx, rcpt)
}

// Records is the send ledger as an erasure reaches it (every
// ledger.Ledger is one): the person's records, and the audit trail that
// records the erasure.
type Records interface {
	Erase(ctx context.Context, rcpt ledger.Digest) (ledger.Erased, error)
	Audit(ctx context.Context, e ledger.AuditEvent) error
}

// Erasure is what an erasure request reaches: the opt-out list, and the
// contacts, cap counts and send ledger when kept (nil when not).
type Erasure struct {
	OptOuts  *OptOuts
	Contacts contactdb.Store
	Caps     CapCounts
	Ledger   Records
	By       string           // who answered the request, for the audit trail
	Reason   string           // why, for the audit trail (never the address)
	Now      func() time.Time // the audit event's time; nil: time.Now
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
	// Ledger counts the ledger records deleted and kept without the
	// address.
	Ledger ledger.Erased
}

// Erase answers an erasure request (GDPR Art. 17): it opts addr out, if
// it is not already, and deletes its CRM contact record and its counts in
// the recipient caps; in the send ledger it deletes their refusals and
// keeps their sent decisions without the address (the proof that the
// lists were consulted before each send), and records the erasure in the
// audit trail, by whom and with the counts, without the address or its
// digest. What remains is the keyed digest on the opt-out list, which
// keeps the person suppressed without naming them. The opt-out comes
// first: whatever fails after it, the person is no longer written to.
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
	if e.Ledger != nil {
		done.Ledger, err = e.eraseRecords(ctx, addr)
	}
	return done, err
}

// eraseRecords is the ledger's part of an erasure, and its audit event.
func (e Erasure) eraseRecords(ctx context.Context, addr string) (ledger.Erased, error) {
	d, err := e.OptOuts.Digest(addr)
	if err != nil {
		return ledger.Erased{}, err
	}
	er, err := e.Ledger.Erase(ctx, d)
	if err != nil {
		return er, fmt.Errorf("erasing ledger records: %w", err)
	}
	now := time.Now
	if e.Now != nil {
		now = e.Now
	}
	err = e.Ledger.Audit(ctx, ledger.AuditEvent{At: now(), Actor: e.By, Action: ledger.ActErase, Source: ledger.SourceCLI,
		Reason: e.Reason, Details: map[string]string{
			"decisions_anonymised": strconv.FormatInt(er.Anonymised, 10),
			"refusals_deleted":     strconv.FormatInt(er.Deleted, 10),
		}})
	if err != nil {
		return er, fmt.Errorf("recording the erasure in the audit trail: %w", err)
	}
	return er, nil
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
