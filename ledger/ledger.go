// Package ledger is the send ledger: one record per recipient decision,
// allowed or refused, with the list versions it rests on and the outcome of
// the send, and the audit trail of every change to what may be sent. It is
// the proof that the lists were consulted before each send, and what
// managers review. Backends live in ledger/sqlite and ledger/postgres.
package ledger

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"time"

	"github.com/dncgate/dncgate/listdb"
)

// Digest is the recipient's keyed digest, the same key the opt-out list
// and the contacts use, so an exact address search never stores the
// address.
type Digest = listdb.Digest

// Verdict is what the check decided for one recipient.
type Verdict string

const (
	Allowed  Verdict = "allowed"
	Refused  Verdict = "refused"
	TempFail Verdict = "tempfail"
)

// Valid reports whether v is one of the verdicts.
func (v Verdict) Valid() bool { return v == Allowed || v == Refused || v == TempFail }

// Reason is the verdict's reason code, as suppression's verdict names it
// ("allowed", "opt-out", "list:be-dncm", "policy:consent-required", …).
type Reason string

// OutcomeKind is what became of a decided recipient.
type OutcomeKind string

const (
	// Unknown: the record was written before the send and no outcome
	// followed (a crash in between). Never "no record".
	Unknown OutcomeKind = "unknown"
	// Sent: the upstream accepted the copy; Reply holds its answer.
	Sent OutcomeKind = "sent"
	// LeftOut: refused, accepted from the client, left out and reported.
	LeftOut OutcomeKind = "left-out"
	// RefusedAtRcpt: refused to the client at RCPT (or, the copies not
	// sent, the message at DATA).
	RefusedAtRcpt OutcomeKind = "refused"
	// TempFailed: the send failed temporarily (upstream or check).
	TempFailed OutcomeKind = "tempfail"
	// UpstreamRefused: the upstream refused the copy for good; Reply holds
	// its answer.
	UpstreamRefused OutcomeKind = "upstream-refused"
	// Bounced: the upstream took the copy and a bounce came back to its
	// return path; Reply holds what it said ("hard 5.1.1").
	Bounced OutcomeKind = "bounced"
	// Complained: the recipient reported the copy as spam (RFC 5965).
	Complained OutcomeKind = "complained"
)

// Valid reports whether k is one of the outcome kinds.
func (k OutcomeKind) Valid() bool {
	switch k {
	case Unknown, Sent, LeftOut, RefusedAtRcpt, TempFailed, UpstreamRefused, Bounced, Complained:
		return true
	}
	return false
}

// Outcome is the end of one recipient's send.
type Outcome struct {
	Kind  OutcomeKind
	Reply string    // the upstream's reply line, for Sent and TempFailed
	At    time.Time // zero until an outcome is written
}

// ListVersion is one list consulted and the version in force.
type ListVersion struct {
	List    string `json:"list"`
	Version string `json:"version"`
}

// Match is the list entry that decided a refusal: the list, its version
// and the kind of key that matched ("email", "domain", "phone", …).
type Match struct {
	List    string
	Version string
	KeyKind string
}

// Decision is one recipient decision.
type Decision struct {
	ID  string    // unique; a replay of the same record is ignored
	At  time.Time // when it was decided
	Ref string    // the transaction reference the rep sees

	Rep    string // the AUTH identity
	Sender string // MAIL FROM

	RcptMasked  string // j***@acme.fr
	RcptDigest  Digest
	Domain      string
	Country     string
	CountryFrom string // "contact", "tld" or "default"
	RcptType    string // consumer, sole-trader, business, role
	Rule        string // the policy rule that applied

	Verdict Verdict
	Reason  Reason
	Match   Match         // for a refusal by a list
	Lists   []ListVersion // every list consulted: the proof for a send
	Cap     string        // cap state, e.g. "rep-daily 12/50"

	Listener string
	Client   string // the client's address
	Subject  string // empty unless [ledger] store_subject

	Outcome Outcome
}

// Kind is the retention class of the record: sent mail or a refusal.
func (d Decision) Kind() Kind {
	if d.Verdict == Allowed {
		return KindSent
	}
	return KindRefused
}

// Kind names a class of records with its own retention.
type Kind string

const (
	KindSent    Kind = "sent"    // decisions that allowed a send
	KindRefused Kind = "refused" // refusals and temporary failures
	KindAudit   Kind = "audit"   // the audit trail
)

// Retention is how long each kind of record is kept.
type Retention struct {
	Sent, Refused, Audit time.Duration
}

// Cutoffs are the times before which each kind has expired at now.
func (r Retention) Cutoffs(now time.Time) (sent, refused, audit time.Time) {
	return now.Add(-r.Sent), now.Add(-r.Refused), now.Add(-r.Audit)
}

// Expired counts what one Expire deleted, per kind.
type Expired struct {
	Sent, Refused, Audit int64
	Partitions           int // whole partitions dropped
}

// Erased counts what Erase did.
type Erased struct {
	Anonymised int64 // sent decisions kept without the address
	Deleted    int64 // refusals removed
}

// Ledger stores decisions and the audit trail.
type Ledger interface {
	// Record makes the decisions durable before the copy leaves.
	Record(ctx context.Context, ds []Decision) error
	// SetOutcome writes the outcome of the recipient rcpt of ref.
	SetOutcome(ctx context.Context, ref string, rcpt Digest, o Outcome) error
	// Audit appends one event to the audit trail.
	Audit(ctx context.Context, e AuditEvent) error
	// Query returns one page of decisions, newest first.
	Query(ctx context.Context, q Query) (Page, error)
	// Audits returns audit events, newest first.
	Audits(ctx context.Context, q AuditQuery) ([]AuditEvent, error)
	// Transaction returns every decision of ref, oldest first.
	Transaction(ctx context.Context, ref string) ([]Decision, error)
	// Erase removes or anonymises the decisions about rcpt.
	Erase(ctx context.Context, rcpt Digest) (Erased, error)
	// DailyCounts reads the per-day rollup rows of q, one per day, rep,
	// verdict and reason; TrendCounts reads them summed, for ReadTrends.
	DailyCounts(ctx context.Context, q TrendQuery) ([]DayCount, error)
	TrendCounts(ctx context.Context, q TrendQuery) (TrendCounts, error)
	// Expire deletes what the retention says has expired at now.
	Expire(ctx context.Context, now time.Time) (Expired, error)
	Close() error
}

// ErrNotFound: no decision matches SetOutcome's reference and recipient.
var ErrNotFound = errors.New("ledger: no such decision")

// NewID returns a fresh record id.
func NewID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return hex.EncodeToString(b[:])
}

// Fill gives each decision without one an id and outcome Unknown, and
// keeps times to the microsecond, which both backends store exactly. The
// backends call it before writing.
func Fill(ds []Decision) {
	for i := range ds {
		if ds[i].ID == "" {
			ds[i].ID = NewID()
		}
		if ds[i].Outcome.Kind == "" {
			ds[i].Outcome.Kind = Unknown
		}
		ds[i].At = ds[i].At.UTC().Truncate(time.Microsecond)
		ds[i].Outcome.At = ds[i].Outcome.At.UTC().Truncate(time.Microsecond)
	}
}

// FillAudit does for an audit event what Fill does for decisions.
func FillAudit(e *AuditEvent) {
	if e.ID == "" {
		e.ID = NewID()
	}
	e.At = e.At.UTC().Truncate(time.Microsecond)
}
