package caps_test

import (
	"strings"
	"testing"

	"github.com/dncgate/dncgate/caps"
)

// settleRules: a per-message company cap the recipients of a message
// share, and a per-recipient cap each has alone.
func settleRules() []caps.Rule {
	return []caps.Rule{rule("domain", caps.ScopeRecipientDomain, 1), rule("recipient", caps.ScopeRecipient, 1)}
}

// TestSettleCommitsAMessageInOneCall: three recipients at one company
// are committed by one store call, the company slot they share once.
func TestSettleCommitsAMessageInOneCall(t *testing.T) {
	c, rec := newChecker(t, settleRules()...)
	var tickets []*caps.Ticket
	for _, to := range []string{"a@acme.fr", "b@acme.fr", "c@acme.fr"} {
		tickets = append(tickets, granted(t, c, to, "m1", t0))
	}
	if err := c.Settle(t.Context(), tickets, nil, t0); err != nil {
		t.Fatal(err)
	}
	if rec.commits != 1 || rec.releases != 0 {
		t.Fatalf("store saw %d commits and %d releases, want 1 and 0", rec.commits, rec.releases)
	}
	if len(rec.sent) != 4 {
		t.Fatalf("committed %d slots, want 4 (the shared company slot once, three recipients)", len(rec.sent))
	}
	if n := usageOf(t, c, "domain", "acme.fr", t0); n != 1 {
		t.Fatalf("company count = %d, want 1", n)
	}
	for _, to := range []string{"a@acme.fr", "b@acme.fr", "c@acme.fr"} {
		if n := usageOf(t, c, "recipient", to, t0); n != 1 {
			t.Fatalf("%s count = %d, want 1", to, n)
		}
	}
	// The tickets are ended: a late release gives nothing back.
	if err := tickets[0].Release(t.Context()); err != nil || rec.releases != 0 {
		t.Fatalf("release after Settle: %v, %d store releases", err, rec.releases)
	}
	refused(t, c, "d@acme.fr", "m2", t0)
}

// TestSettleMixed: one recipient delivered, one refused upstream: the
// company slot they share counts, the refused one's own slot is freed,
// and the store is not asked to release what it commits.
func TestSettleMixed(t *testing.T) {
	c, rec := newChecker(t, settleRules()...)
	a := granted(t, c, "a@acme.fr", "m1", t0)
	b := granted(t, c, "b@acme.fr", "m1", t0)
	if err := c.Settle(t.Context(), []*caps.Ticket{a, nil}, []*caps.Ticket{b, nil}, t0); err != nil {
		t.Fatal(err)
	}
	if rec.commits != 1 || rec.releases != 1 || len(rec.sent) != 2 || len(rec.freed) != 1 {
		t.Fatalf("store saw %d commits of %d slots and %d releases of %d, want 1 of 2 and 1 of 1",
			rec.commits, len(rec.sent), rec.releases, len(rec.freed))
	}
	if n := usageOf(t, c, "domain", "acme.fr", t0); n != 1 {
		t.Fatalf("company count = %d, want 1", n)
	}
	if n := usageOf(t, c, "recipient", "b@acme.fr", t0); n != 0 {
		t.Fatalf("the refused recipient still counts %d", n)
	}
	granted(t, c, "b@other.fr", "m2", t0)
}

// TestSettleReleasesTogether: a transaction reset before DATA gives every
// recipient's slots back in one call, the shared one once.
func TestSettleReleasesTogether(t *testing.T) {
	c, rec := newChecker(t, settleRules()...)
	a := granted(t, c, "a@acme.fr", "m1", t0)
	b := granted(t, c, "b@acme.fr", "m1", t0)
	if err := c.Settle(t.Context(), nil, []*caps.Ticket{a, b}, t0); err != nil {
		t.Fatal(err)
	}
	if rec.commits != 0 || rec.releases != 1 || len(rec.freed) != 3 {
		t.Fatalf("store saw %d commits and %d releases of %d slots, want 0, 1 and 3", rec.commits, rec.releases, len(rec.freed))
	}
	granted(t, c, "c@acme.fr", "m2", t0)
	// Settling ended tickets again: the commit is recorded (the mail
	// left), the release is not repeated.
	if err := c.Settle(t.Context(), []*caps.Ticket{a}, []*caps.Ticket{b}, t0); err != nil {
		t.Fatal(err)
	}
	if rec.releases != 1 || rec.commits != 1 {
		t.Fatalf("store saw %d commits and %d releases, want 1 and 1", rec.commits, rec.releases)
	}
}

func TestSettleRefusesAnotherCheckersTicket(t *testing.T) {
	c, _ := newChecker(t, settleRules()...)
	other, _ := newChecker(t, settleRules()...)
	tk := granted(t, other, "a@acme.fr", "m1", t0)
	err := c.Settle(t.Context(), []*caps.Ticket{tk}, nil, t0)
	if err == nil || !strings.Contains(err.Error(), "another checker") {
		t.Fatalf("Settle of a foreign ticket = %v", err)
	}
	if n := usageOf(t, other, "recipient", "a@acme.fr", t0); n != 1 {
		t.Fatalf("the foreign ticket's hold is gone (count %d)", n)
	}
}
