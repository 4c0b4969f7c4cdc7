package suppression_test

import (
	"testing"
	"time"

	"github.com/dncgate/dncgate/listdb"
	"github.com/dncgate/dncgate/listmodel"
	"github.com/dncgate/dncgate/smtpreply"
	"github.com/dncgate/dncgate/suppression"
)

// TestBouncedListRefuses: a recipient on the bounced list is refused with
// reason bounced, whatever the spelling; a second Suppress adds nothing.
func TestBouncedListRefuses(t *testing.T) {
	eachStore(t, func(t *testing.T, st backend) {
		f := newFixture(t, st, noPresets)
		ctx := t.Context()
		if err := suppression.EnsureBounced(ctx, st); err != nil {
			t.Fatal(err)
		}
		if err := suppression.EnsureBounced(ctx, st); err != nil {
			t.Fatalf("EnsureBounced again: %v", err)
		}
		d, err := suppression.NewOptOuts(st, testKey).Digest("Ghost+offers@Example.net")
		if err != nil {
			t.Fatal(err)
		}
		at := t0.Add(time.Hour)
		want(t, "before", f.decide("ghost@example.net", at), suppression.Allowed, suppression.CodeAllowed, "")
		for i, wantAdded := range []bool{true, false} {
			added, err := suppression.Suppress(ctx, st, listmodel.Bounced, d)
			if err != nil || added != wantAdded {
				t.Fatalf("Suppress #%d = %v, %v; want %v", i+1, added, err, wantAdded)
			}
		}
		v := f.decide("GHOST@example.net", at)
		want(t, "bounced", v, suppression.Refused, suppression.CodeBounced, "bounced")
		if v.Reason() != smtpreply.Bounced || v.List != listmodel.Bounced {
			t.Errorf("reason %q list %q, want bounced on %s", v.Reason(), v.List, listmodel.Bounced)
		}
		want(t, "other", f.decide("someone@example.net", at), suppression.Allowed, suppression.CodeAllowed, "")
		if _, err := suppression.Suppress(ctx, st, "no-such-list", listdb.Digest{}); err == nil {
			t.Error("Suppress on a missing list: no error")
		}
	})
}
