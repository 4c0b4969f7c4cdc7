package bounce

import (
	"context"
	"encoding/hex"
	"fmt"
	"log/slog"
	"time"

	"github.com/dncgate/dncgate/ledger"
	"github.com/dncgate/dncgate/listdb"
	"github.com/dncgate/dncgate/listmodel"
	"github.com/dncgate/dncgate/suppression"
	"github.com/dncgate/dncgate/unsubscribe/token"
)

// Lists is what applying a report needs of the store's lists.
type Lists interface {
	Contains(ctx context.Context, name string, digests ...listdb.Digest) ([]bool, error)
	AddEntry(ctx context.Context, name string, d listdb.Digest) error
}

// Counters count soft bounces in a fixed window (store.Counters).
type Counters interface {
	Hit(ctx context.Context, key string, window time.Duration) (int64, error)
}

// Ledger is where each event is recorded (ledger.Ledger).
type Ledger interface {
	SetOutcome(ctx context.Context, ref string, rcpt ledger.Digest, o ledger.Outcome) error
	Audit(ctx context.Context, e ledger.AuditEvent) error
}

// Applier turns a report about a copy into what the gateway keeps.
type Applier struct {
	Lists      Lists
	Counts     Counters
	Ledger     Ledger        // nil without a ledger
	SoftLimit  int           // soft bounces of one recipient that suppress them; at least 1
	SoftWindow time.Duration // the window they are counted in
	Log        *slog.Logger
	// OptedOut, when set, hears of each recipient a complaint opted out
	// (the CRM's webhook); it runs after the opt-out is made, and its
	// failure is logged: the opt-out stands. Digest, when set, is the
	// store's keyed digest of an address, with which a recipient the
	// report names is checked against the copy's sealed one.
	OptedOut func(ctx context.Context, n OptOutNotice) error
	Digest   func(addr string) ledger.Digest
}

// OptOutNotice is a recipient opted out by a complaint about a copy.
type OptOutNotice struct {
	Digest  ledger.Digest
	Address string // "" unless the report named the copy's own recipient
	Ref     string // the copy's transaction reference
	At      time.Time
}

// Change is what applying a report did.
type Change string

const (
	NoChange   Change = "none"       // a replay, a delay, a failure not about the mailbox
	Counted    Change = "counted"    // a soft bounce counted, under the limit
	Suppressed Change = "suppressed" // the recipient put on the bounced list
	OptedOut   Change = "opted-out"  // the recipient put on the opt-out list
)

// Apply records report r about the copy the token c names. Only a
// failure to write the lists or the counts is an error: the sender is
// then told to retry. A replay (the same report for the same copy again)
// changes nothing: the lists hold each person once, and a soft bounce is
// counted once per copy.
func (a *Applier) Apply(ctx context.Context, c token.BounceClaims, r Report, now time.Time) (Change, error) {
	switch r.Kind {
	case Hard:
		return a.suppress(ctx, c, listmodel.Bounced, Suppressed, "hard "+r.Status, now)
	case Complaint:
		ch, err := a.suppress(ctx, c, listmodel.OptOut, OptedOut, "complaint "+r.FeedbackType, now)
		if ch == OptedOut && a.OptedOut != nil {
			n := OptOutNotice{Digest: c.Digest, Address: a.namedRecipient(c.Digest, r.Recipients), Ref: c.Ref, At: now}
			if err := a.OptedOut(ctx, n); err != nil {
				a.log().Error("bounce: the opt-out stands but the CRM will not hear of it", "ref", c.Ref, "err", err)
			}
		}
		return ch, err
	case Soft:
		return a.soft(ctx, c, r, now)
	}
	return NoChange, nil
}

// suppress puts the recipient on list, and records it when it was not
// there yet.
func (a *Applier) suppress(ctx context.Context, c token.BounceClaims, list string, ch Change, why string, now time.Time) (Change, error) {
	added, err := suppression.Suppress(ctx, a.Lists, list, c.Digest)
	if err != nil || !added {
		return NoChange, err
	}
	kind := ledger.Bounced
	e := ledger.AuditEvent{At: now, Actor: "bounce", Action: ledger.ActBounced, Object: list, Digest: &c.Digest, Reason: why,
		Details: map[string]string{"ref": c.Ref, "rep": c.Rep}}
	if ch == OptedOut {
		kind, e.Actor, e.Action, e.Source = ledger.Complained, "recipient", ledger.ActOptOut, ledger.SourceComplaint
	}
	a.record(ctx, c, ledger.Outcome{Kind: kind, Reply: why, At: now}, &e)
	return ch, nil
}

// soft counts a temporary failure once per copy and suppresses the
// recipient at the limit.
func (a *Applier) soft(ctx context.Context, c token.BounceClaims, r Report, now time.Time) (Change, error) {
	person := hex.EncodeToString(c.Digest[:])
	seen, err := a.Counts.Hit(ctx, "bounce:copy:"+person+":"+c.Ref, a.SoftWindow)
	if err != nil {
		return NoChange, fmt.Errorf("bounce: marking the copy: %w", err)
	}
	if seen > 1 {
		return NoChange, nil
	}
	n, err := a.Counts.Hit(ctx, "bounce:soft:"+person, a.SoftWindow)
	if err != nil {
		return NoChange, fmt.Errorf("bounce: counting: %w", err)
	}
	why := fmt.Sprintf("soft %s, %d of %d in %s", r.Status, n, a.SoftLimit, a.SoftWindow)
	if n < int64(a.SoftLimit) {
		a.record(ctx, c, ledger.Outcome{Kind: ledger.Bounced, Reply: why, At: now}, nil)
		return Counted, nil
	}
	ch, err := a.suppress(ctx, c, listmodel.Bounced, Suppressed, why, now)
	if err == nil && ch == NoChange {
		a.record(ctx, c, ledger.Outcome{Kind: ledger.Bounced, Reply: why, At: now}, nil)
		ch = Counted
	}
	return ch, err
}

// record writes the copy's outcome and the audit event; a failure is
// logged: the suppression stands.
func (a *Applier) record(ctx context.Context, c token.BounceClaims, o ledger.Outcome, e *ledger.AuditEvent) {
	if a.Ledger == nil {
		return
	}
	if err := a.Ledger.SetOutcome(ctx, c.Ref, c.Digest, o); err != nil {
		a.log().Error("bounce: the outcome is not in the ledger", "ref", c.Ref, "err", err)
	}
	if e == nil {
		return
	}
	if err := a.Ledger.Audit(ctx, *e); err != nil {
		a.log().Error("bounce: the suppression stands but not its audit event", "ref", c.Ref, "err", err)
	}
}

// namedRecipient is the first address the report names whose digest is
// the copy's recipient's: the one the complaint is about, spelled as the
// report spells it. "" when none matches or there is no Digest.
func (a *Applier) namedRecipient(d ledger.Digest, named []string) string {
	if a.Digest == nil {
		return ""
	}
	for _, addr := range named {
		if a.Digest(addr) == d {
			return addr
		}
	}
	return ""
}

func (a *Applier) log() *slog.Logger {
	if a.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return a.Log
}
