// Package listdb is how suppression lists are stored: each list keeps its
// description and one current version, a set of keyed 16-byte digests.
// An import writes a new version beside the current one and switches to it
// in one step, so a check running meanwhile sees the old set or the new
// one, never a mix; an import that fails or is interrupted leaves the
// current version in force, and the next import removes its leftovers.
//
// Entries are digests, never addresses or numbers: the caller keys them
// (HMAC with the configured key) before they reach the store, so a dump of
// the store alone does not say who is on a list.
//
// The versions an import replaces are kept, the newest Meta.Keep() of
// them, so that Rollback can switch back to one as atomically as an import
// switches; older ones are swept.
//
// Manual additions and removals (lists add/remove) are kept apart from the
// versions and survive re-imports: an entry added by hand stays on the
// list, one removed by hand stays off it, whatever later files say, until
// the opposite decision is recorded. A ManualCounter also records who made
// each, when and why, with the value masked.
package listdb

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/dncgate/dncgate/listmodel"
)

// DigestSize is the length of a stored key: a truncated keyed hash.
const DigestSize = 16

// Digest is one list entry as stored.
type Digest = [DigestSize]byte

var (
	// ErrNotFound is returned for a list that does not exist.
	ErrNotFound = errors.New("listdb: no such list")
	// ErrSuperseded is returned by Writer.Commit when another import of
	// the same list began after this one and swept it as an orphan.
	ErrSuperseded = errors.New("listdb: import superseded by a later one")
	// ErrNotKept is returned by Rollback for a version the list does not
	// keep (swept, never imported, or the one in force).
	ErrNotKept = errors.New("listdb: version not kept")
	// ErrChanged is returned by Rollback when the version in force
	// changed while it chose where to go; nothing was switched.
	ErrChanged = errors.New("listdb: the version in force changed meanwhile")
)

// DefaultKeepVersions is how many replaced versions a list keeps when its
// description does not say.
const DefaultKeepVersions = 2

// Meta describes a list; the store keeps it as given.
type Meta struct {
	Name      string
	Kind      string // the lists.Kind, as text
	Model     listmodel.Model
	Countries []string      // ISO codes, or empty for all
	MaxAge    time.Duration // 0: never stale
	Source    string
	// WarnStale downgrades a list past MaxAge from a temporary failure of
	// the recipients it governs to a warning in the log.
	WarnStale bool
	// KeepVersions is how many replaced versions are kept for Rollback;
	// nil takes DefaultKeepVersions (use Keep).
	KeepVersions *int `json:",omitempty"`
}

// Keep is how many replaced versions the list keeps.
func (m Meta) Keep() int {
	if m.KeepVersions == nil || *m.KeepVersions < 0 {
		return DefaultKeepVersions
	}
	return *m.KeepVersions
}

// Version describes one imported set of entries.
type Version struct {
	ID         string // set by the store; empty when nothing was imported yet
	ImportedAt time.Time
	ImportedBy string
	FileSHA256 string
	// Rows, Valid, Invalid and Duplicates are the importer's counts, kept
	// as given. Entries is set by the store: the distinct digests stored.
	Rows, Valid, Invalid, Duplicates, Entries int64
	// Added and Removed are the importer's comparison with the version
	// it replaced, kept as given; Compared says they were given.
	Added, Removed int64 `json:",omitempty"`
	Compared       bool  `json:",omitempty"`
	// RestoredAt and RestoredBy say when and by whom the last Rollback
	// to this version was made; zero when none was.
	RestoredAt time.Time `json:",omitzero"`
	RestoredBy string    `json:",omitempty"`
}

// VersionInfo is one version History returns.
type VersionInfo struct {
	Version
	// InForce says the version is the one lookups answer from; the
	// others are kept for Rollback.
	InForce bool
}

// Switch is what a Rollback changed, for the caller to record.
type Switch struct {
	List     string
	From, To Version // To has RestoredAt and RestoredBy set
}

// Info is a list and its current version, as Lists returns them.
type Info struct {
	Meta    Meta
	Current Version
}

// Probe asks whether one list holds any of some digests.
type Probe struct {
	List    string
	Digests []Digest
}

// Answer is one Probe's answer.
type Answer struct {
	Found   []bool // per digest of the probe, in order
	Version string // ID of the version that answered; "" when nothing was imported yet
	Missing bool   // the list does not exist (dropped meanwhile): nothing found
}

// Store keeps lists and their versions.
type Store interface {
	// PutList creates the list or replaces its description; the current
	// version stays.
	PutList(ctx context.Context, m Meta) error
	// List returns the description and current version (zero when nothing
	// was imported yet), or ErrNotFound.
	List(ctx context.Context, name string) (Meta, Version, error)
	// Lists returns every list, sorted by name.
	Lists(ctx context.Context) ([]Info, error)
	// DropList removes the list and all its entries; ErrNotFound when absent.
	DropList(ctx context.Context, name string) error
	// BeginVersion starts an import into a new version. expect is the
	// number of entries the caller expects (0 when unknown); a store may
	// size its layout by it. Leftovers of an earlier import of the same
	// list that never committed are removed first.
	BeginVersion(ctx context.Context, name string, expect int64) (Writer, error)
	// Contains reports, for each digest, whether the current version holds
	// it; all false when nothing was imported yet, ErrNotFound when the
	// list does not exist.
	Contains(ctx context.Context, name string, digests ...Digest) ([]bool, error)
	// Lookup answers several probes at once, in the same order: in one
	// round trip on Redis (a single pipeline, also on a cluster), in one
	// read transaction on the embedded store. Each answer comes from one
	// version of its list, never a mix. Manual additions and removals are
	// never served stale: they count from the next Lookup on any instance.
	Lookup(ctx context.Context, probes []Probe) ([]Answer, error)
	// AddEntry puts d on the list by hand; ErrNotFound when the list does
	// not exist.
	AddEntry(ctx context.Context, name string, d Digest) error
	// RemoveEntry takes d off the list by hand, also when an import has
	// it; ErrNotFound when the list does not exist.
	RemoveEntry(ctx context.Context, name string, d Digest) error
	// History returns the version in force and the versions kept, newest
	// import first; ErrNotFound when the list does not exist.
	History(ctx context.Context, name string) ([]VersionInfo, error)
	// Rollback makes a kept version the one in force, in one step as an
	// import's Commit does, and keeps the one it replaces. version ""
	// takes the newest kept version imported before the one in force.
	// A version not kept gives an error wrapping ErrNotKept that names
	// the kept ones; ErrNotFound when the list does not exist.
	Rollback(ctx context.Context, name, version, by string, now time.Time) (Switch, error)
}

// Manual is what the entries added and removed by hand come to.
type Manual struct {
	// Added and Removed count the digests whose last decision by hand
	// put them on the list, or took them off.
	Added, Removed int64
}

// ManualChange is one decision by hand as recorded: who put a value on
// the list or took it off, when and why.
type ManualChange struct {
	At     time.Time
	By     string
	Reason string
	Added  bool // put on the list; false: taken off
	// Value is the value masked (lists.Mask): a store holds digests,
	// never the clear value.
	Value string
}

// ManualCounter is a Store that counts its manual entries, what lists ls
// and show add to a version's entries (the opt-out list holds little
// else), and records who made each decision by hand.
type ManualCounter interface {
	// Manual counts list name's manual entries; ErrNotFound when the
	// list does not exist.
	Manual(ctx context.Context, name string) (Manual, error)
	// ChangeEntry puts d on the list (c.Added) or takes it off, as
	// AddEntry and RemoveEntry do, and records c, in one step: no
	// decision without its record. ErrNotFound when the list does not
	// exist.
	ChangeEntry(ctx context.Context, name string, d Digest, c ManualChange) error
	// ManualChanges returns the recorded decisions, newest first, at
	// most limit of them (0: all); ErrNotFound when the list does not
	// exist. They go with the list when it is dropped.
	ManualChanges(ctx context.Context, name string, limit int) ([]ManualChange, error)
}

// Writer fills one new version. It is not safe for concurrent use. A
// writer may hold a bounded number of digests (a few MiB) to sort or group
// them before writing: nothing is visible before Commit anyway.
//
// Only the latest BeginVersion of a list may commit: an earlier import
// still running is taken for an interrupted one, swept, and its Commit
// fails with ErrSuperseded.
type Writer interface {
	// Add stores a batch of digests, in any order; duplicates are kept
	// once. Large batches (thousands) are much faster than small ones.
	Add(ctx context.Context, digests []Digest) error
	// Commit makes the version current and keeps the one it replaces,
	// removing the kept versions beyond the list's Meta.Keep().
	// It returns v with ID and Entries set by the store.
	Commit(ctx context.Context, v Version) (Version, error)
	// Abort removes what the import wrote; the current version stays.
	Abort(ctx context.Context) error
}

// maxNameLen bounds a list name: it appears in every Redis key of the list.
const maxNameLen = 64

// CheckName refuses names a store could not key safely: a name is 1 to 64
// ASCII letters, digits, '-', '_' or '.'.
func CheckName(name string) error {
	if name == "" || len(name) > maxNameLen {
		return fmt.Errorf("listdb: list name %q must be 1 to %d characters", name, maxNameLen)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.'
		if !ok {
			return fmt.Errorf("listdb: list name %q: character %q at %d is not a letter, digit, '-', '_' or '.'", name, c, i)
		}
	}
	return nil
}

// Buffer appends digests to *buf and calls flush each time *buf holds size
// entries; flush must empty *buf. Both stores' Writer.Add use it, so an
// import holds at most size digests whatever the callers' batch sizes.
func Buffer(buf *[]Digest, digests []Digest, size int, flush func() error) error {
	for len(digests) > 0 {
		n := min(len(digests), size-len(*buf))
		*buf = append(*buf, digests[:n]...)
		digests = digests[n:]
		if len(*buf) == size {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	return nil
}
