// Package contactdb is how CRM contacts are stored for the recipient
// check: for a recipient's e-mail, the phones that national do-not-call
// lists are keyed by, the country and the recipient type. There is one
// set of contacts, versioned like a suppression list (see listdb): an
// import writes a new version beside the current one and switches to it
// in one step, so a lookup running meanwhile sees the old set or the new
// one, never a mix; an interrupted import leaves the current version in
// force and the next import removes what it left.
//
// Nothing personal is stored in the clear: a contact is keyed by the
// keyed digest of its normalised e-mail, and its phones are keyed digests
// too. Names, companies and the addresses themselves never reach the
// store.
package contactdb

import (
	"context"
	"errors"
	"time"

	"github.com/dncgate/dncgate/listdb"
)

// MaxPhones bounds the phones kept for one contact: CRM records hold a
// few (office, mobile, home), and a bound keeps a record small.
const MaxPhones = 8

// Recipient types, as stored and as the country policy names them.
const (
	TypeConsumer   = "consumer"
	TypeSoleTrader = "sole-trader"
	TypeBusiness   = "business"
)

// ErrSuperseded is returned by Writer.Commit when another import began
// after this one and swept it as an interrupted one.
var ErrSuperseded = errors.New("contactdb: import superseded by a later one")

// Contact is what the check needs to know of one recipient.
type Contact struct {
	Country string          // ISO alpha-2 ("GB" for the UK); "" unknown
	Type    string          // "consumer", "sole-trader", "business"; "" unknown
	Phones  []listdb.Digest // keyed digests (kind "phone") of the E.164 numbers, at most 8
	// Language is the language the person reads (ISO 639-1, lower case:
	// "fr"), from the CRM; "" unknown. It chooses the footer's language
	// over the country's.
	Language string
}

// Record is one contact as an import hands it to the store.
type Record struct {
	Email listdb.Digest // listdb.Key(key, "email", lists.NormaliseEmail(addr))
	Contact
}

// Version describes one imported set of contacts.
type Version struct {
	ID         string // set by the store; empty when nothing was imported yet
	ImportedAt time.Time
	ImportedBy string
	FileSHA256 string
	// Rows, Valid and Invalid are the importer's counts, kept as given.
	// Entries and Duplicates are set by the store at Commit: the distinct
	// e-mails stored, and the records Add was given beyond them (a later
	// record for an e-mail replaced an earlier one). Forget does not
	// change them: they say what the import brought.
	Rows, Valid, Invalid, Duplicates, Entries int64
}

// Store keeps the contacts.
type Store interface {
	// Contact returns the current version's record for email; false when
	// it holds none or nothing was imported yet.
	Contact(ctx context.Context, email listdb.Digest) (Contact, bool, error)
	// Current returns the current version, the zero Version when none.
	Current(ctx context.Context) (Version, error)
	// BeginImport starts an import into a new version. expect is the
	// number of records the caller expects (0 when unknown); a store may
	// size its layout by it. What earlier imports left without committing
	// is removed first, and they can no longer commit.
	BeginImport(ctx context.Context, expect int64) (Writer, error)
	// Forget removes email's record from the current version, for an
	// erasure request; no error when there is none. A later import of a
	// file that still holds the person brings the record back: the CRM
	// export must lose them too. Their opt-out tombstone, a keyed digest
	// on the opt-out list, keeps them suppressed whatever the contacts say.
	Forget(ctx context.Context, email listdb.Digest) error
}

// Writer fills one new version. It is not safe for concurrent use; it may
// hold a bounded number of records before writing them, since nothing is
// visible before Commit anyway.
type Writer interface {
	// Add stores a batch of records; a later record for the same email,
	// in this batch or an earlier one, replaces the earlier. A record
	// that Check refuses fails the batch.
	Add(ctx context.Context, recs []Record) error
	// Commit makes the version current and removes the one it replaces.
	// It returns v with ID, Entries and Duplicates set by the store.
	Commit(ctx context.Context, v Version) (Version, error)
	// Abort removes what the import wrote; the current version stays.
	Abort(ctx context.Context) error
}
