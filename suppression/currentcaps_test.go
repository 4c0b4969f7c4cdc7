package suppression

import (
	"context"
	"testing"
)

type countingCaps struct{ n int }

func (c *countingCaps) ForgetRecipient(context.Context, string) (int, error) { c.n++; return c.n, nil }

// CurrentCaps asks for the caps in force at each call, so an erasure after
// a reload resets the new caps, and none when they are gone.
func TestCurrentCapsFollowsTheCapsInForce(t *testing.T) {
	first, second := &countingCaps{}, &countingCaps{}
	var now CapCounts = first
	cur := CurrentCaps(func() CapCounts { return now })
	if n, _ := cur.ForgetRecipient(t.Context(), "a@x.test"); n != 1 || first.n != 1 {
		t.Fatalf("first caps: %d, %d", n, first.n)
	}
	now = second
	cur.ForgetRecipient(t.Context(), "a@x.test")
	if first.n != 1 || second.n != 1 {
		t.Fatalf("after the swap: first %d, second %d", first.n, second.n)
	}
	now = nil
	if n, err := cur.ForgetRecipient(t.Context(), "a@x.test"); n != 0 || err != nil {
		t.Fatalf("no caps: %d, %v", n, err)
	}
}
