package main

import (
	"context"
	"github.com/dncgate/dncgate/suppression"
	"testing"

	"github.com/dncgate/dncgate/config"
)

// A reload's checks replace what the console reads: a list's max_removal
// follows the configuration in force, and an erasure without [[caps]]
// resets no count.
func TestLiveCheckFollowsTheReload(t *testing.T) {
	decl := func(share float64) []config.ListDecl {
		return []config.ListDecl{{Name: "fr-dnc", MaxRemoval: config.Share{Fraction: share, Set: true}}, {Name: "be-dncm"}}
	}
	l := newLiveCheck(checks{lists: decl(0.1)})
	if got := l.maxRemoval("fr-dnc"); got == nil || *got != 0.1 {
		t.Fatalf("max_removal before the reload = %v, want 0.1", got)
	}
	if got := l.maxRemoval("be-dncm"); got != nil {
		t.Fatalf("max_removal of a list without one = %v, want nil (the import's default)", *got)
	}
	l.set(checks{lists: decl(0.3)})
	if got := l.maxRemoval("fr-dnc"); got == nil || *got != 0.3 {
		t.Fatalf("max_removal after the reload = %v, want 0.3", got)
	}
	if n, err := suppression.CurrentCaps(l.currentCaps).ForgetRecipient(context.Background(), "a@example.net"); n != 0 || err != nil {
		t.Fatalf("ForgetRecipient without caps = %d, %v", n, err)
	}
}
