package bounce_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dncgate/dncgate/bounce"
	"github.com/dncgate/dncgate/internal/teststore"
	"github.com/dncgate/dncgate/ledger"
	"github.com/dncgate/dncgate/listdb"
	"github.com/dncgate/dncgate/listmodel"
	"github.com/dncgate/dncgate/store"
	"github.com/dncgate/dncgate/suppression"
	"github.com/dncgate/dncgate/unsubscribe/token"
)

var testKey = []byte("0123456789abcdef0123456789abcdef")

var now = time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)

// events records what the applier wrote to the ledger.
type events struct {
	mu       sync.Mutex
	outcomes []ledger.Outcome
	audits   []ledger.AuditEvent
}

func (e *events) SetOutcome(_ context.Context, _ string, _ ledger.Digest, o ledger.Outcome) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.outcomes = append(e.outcomes, o)
	return nil
}

func (e *events) Audit(_ context.Context, a ledger.AuditEvent) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.audits = append(e.audits, a)
	return nil
}

// nAudits and nOutcomes read the counts under the lock: the listener
// writes from its own goroutines.
func (e *events) nAudits() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.audits)
}

func setup(t *testing.T, st teststore.Store) (*bounce.Applier, *events) {
	t.Helper()
	for _, ensure := range []func(context.Context, listdb.Store) error{suppression.EnsureOptOut, suppression.EnsureBounced} {
		if err := ensure(t.Context(), st); err != nil {
			t.Fatal(err)
		}
	}
	ev := &events{}
	return &bounce.Applier{Lists: st, Counts: st.(store.Counters), Ledger: ev, SoftLimit: 2, SoftWindow: time.Hour}, ev
}

func claims(t *testing.T, addr, ref string) token.BounceClaims {
	t.Helper()
	d, err := suppression.NewOptOuts(nil, testKey).Digest(addr)
	if err != nil {
		t.Fatal(err)
	}
	return token.BounceClaims{Digest: d, Rep: "alice@acme.example", Ref: ref, Issued: now}
}

func on(t *testing.T, st teststore.Store, list string, c token.BounceClaims) bool {
	t.Helper()
	got, err := st.Contains(t.Context(), list, c.Digest)
	if err != nil {
		t.Fatal(err)
	}
	return got[0]
}

func apply(t *testing.T, a *bounce.Applier, c token.BounceClaims, r bounce.Report) bounce.Change {
	t.Helper()
	ch, err := a.Apply(t.Context(), c, r, now)
	if err != nil {
		t.Fatalf("Apply(%+v): %v", r, err)
	}
	return ch
}

func TestHardBounceSuppressesOnce(t *testing.T) {
	teststore.Each(t, func(t *testing.T, st teststore.Store) {
		a, ev := setup(t, st)
		c := claims(t, "ghost@example.net", "K3QZ7M2A")
		hard := bounce.Report{Kind: bounce.Hard, Format: bounce.FormatDSN, Status: "5.1.1"}
		if ch := apply(t, a, c, hard); ch != bounce.Suppressed {
			t.Fatalf("first hard bounce: %s", ch)
		}
		if !on(t, st, listmodel.Bounced, c) || on(t, st, listmodel.OptOut, c) {
			t.Fatal("not on the bounced list alone")
		}
		if ch := apply(t, a, c, hard); ch != bounce.NoChange {
			t.Fatalf("replayed hard bounce: %s", ch)
		}
		if len(ev.audits) != 1 || ev.audits[0].Action != ledger.ActBounced || *ev.audits[0].Digest != c.Digest ||
			ev.audits[0].Reason != "hard 5.1.1" || ev.audits[0].Details["ref"] != "K3QZ7M2A" {
			t.Fatalf("audit events %+v", ev.audits)
		}
		if len(ev.outcomes) != 1 || ev.outcomes[0].Kind != ledger.Bounced {
			t.Fatalf("outcomes %+v", ev.outcomes)
		}
	})
}

func TestComplaintOptsOut(t *testing.T) {
	teststore.Each(t, func(t *testing.T, st teststore.Store) {
		a, ev := setup(t, st)
		c := claims(t, "angry@example.org", "ABCDEFGH")
		r := bounce.Report{Kind: bounce.Complaint, Format: bounce.FormatARF, FeedbackType: "abuse"}
		if ch := apply(t, a, c, r); ch != bounce.OptedOut {
			t.Fatalf("complaint: %s", ch)
		}
		if !on(t, st, listmodel.OptOut, c) || on(t, st, listmodel.Bounced, c) {
			t.Fatal("not on the opt-out list alone")
		}
		apply(t, a, c, r)
		if len(ev.audits) != 1 || ev.audits[0].Action != ledger.ActOptOut || ev.audits[0].Source != ledger.SourceComplaint {
			t.Fatalf("audit events %+v", ev.audits)
		}
		if len(ev.outcomes) != 1 || ev.outcomes[0].Kind != ledger.Complained {
			t.Fatalf("outcomes %+v", ev.outcomes)
		}
	})
}

// TestComplaintTellsTheCRM: the opt-out a complaint makes is passed on
// once (not on a replay), with the address only when the report names
// the copy's own recipient; a notice that cannot be queued leaves the
// opt-out standing.
func TestComplaintTellsTheCRM(t *testing.T) {
	teststore.Each(t, func(t *testing.T, st teststore.Store) {
		a, _ := setup(t, st)
		var got []bounce.OptOutNotice
		var fail error
		a.OptedOut = func(_ context.Context, n bounce.OptOutNotice) error { got = append(got, n); return fail }
		a.Digest = func(addr string) ledger.Digest { return ledger.RcptDigest(testKey, addr) }

		c := claims(t, "angry@example.org", "ABCDEFGH")
		r := bounce.Report{Kind: bounce.Complaint, Format: bounce.FormatARF, FeedbackType: "abuse",
			Recipients: []string{"someone.else@example.org", "Angry@Example.org"}}
		apply(t, a, c, r)
		apply(t, a, c, r) // a replay: already opted out
		if len(got) != 1 || got[0].Digest != c.Digest || got[0].Address != "Angry@Example.org" || got[0].Ref != "ABCDEFGH" {
			t.Fatalf("notices %+v", got)
		}

		forged := claims(t, "quiet@example.org", "BCDEFGHI")
		apply(t, a, forged, bounce.Report{Kind: bounce.Complaint, FeedbackType: "abuse", Recipients: []string{"victim@example.org"}})
		if len(got) != 2 || got[1].Address != "" || got[1].Digest != forged.Digest {
			t.Fatalf("a named recipient that is not the copy's was passed on: %+v", got[1:])
		}

		fail = errors.New("queue down")
		third := claims(t, "third@example.org", "CDEFGHIJ")
		if ch := apply(t, a, third, bounce.Report{Kind: bounce.Complaint, FeedbackType: "fraud"}); ch != bounce.OptedOut || !on(t, st, listmodel.OptOut, third) {
			t.Fatalf("with the notice failing: %s, opted out %v", ch, on(t, st, listmodel.OptOut, third))
		}
		hard := claims(t, "gone@example.org", "DEFGHIJK")
		apply(t, a, hard, bounce.Report{Kind: bounce.Hard, Status: "5.1.1"})
		if len(got) != 3 {
			t.Fatalf("a hard bounce was passed on as an opt-out: %+v", got)
		}
	})
}

// TestSoftBouncesCountOncePerCopy: soft_limit 2; the same copy's bounce
// twice counts once; a second copy's reaches the limit.
func TestSoftBouncesCountOncePerCopy(t *testing.T) {
	teststore.Each(t, func(t *testing.T, st teststore.Store) {
		a, ev := setup(t, st)
		soft := bounce.Report{Kind: bounce.Soft, Format: bounce.FormatDSN, Status: "4.4.7"}
		first, second := claims(t, "full@example.de", "AAAAAAAA"), claims(t, "full@example.de", "BBBBBBBB")
		for i, step := range []struct {
			c    token.BounceClaims
			want bounce.Change
		}{{first, bounce.Counted}, {first, bounce.NoChange}, {second, bounce.Suppressed}, {second, bounce.NoChange}} {
			if ch := apply(t, a, step.c, soft); ch != step.want {
				t.Fatalf("step %d: %s, want %s", i+1, ch, step.want)
			}
			if got, want := on(t, st, listmodel.Bounced, first), i >= 2; got != want {
				t.Fatalf("step %d: on the bounced list %v, want %v", i+1, got, want)
			}
		}
		if len(ev.audits) != 1 || !strings.HasPrefix(ev.audits[0].Reason, "soft 4.4.7, 2 of 2") {
			t.Fatalf("audit events %+v", ev.audits)
		}
	})
}

func TestOtherChangesNothing(t *testing.T) {
	teststore.Each(t, func(t *testing.T, st teststore.Store) {
		a, ev := setup(t, st)
		c := claims(t, "dave@example.com", "CCCCCCCC")
		for _, r := range []bounce.Report{{Kind: bounce.Other, Status: "5.7.1"}, {Kind: bounce.Other, Status: "4.4.1"}} {
			if ch := apply(t, a, c, r); ch != bounce.NoChange {
				t.Fatalf("%+v: %s", r, ch)
			}
		}
		if on(t, st, listmodel.Bounced, c) || on(t, st, listmodel.OptOut, c) || len(ev.audits)+len(ev.outcomes) != 0 {
			t.Fatal("a failure not about the mailbox changed something")
		}
	})
}
