package ledgersql

import (
	"slices"
	"testing"

	"github.com/dncgate/dncgate/ledger"
)

func TestListsRoundTrip(t *testing.T) {
	for _, ls := range [][]ledger.ListVersion{
		nil,
		{{List: "opt-out", Version: "v1"}},
		{{List: "be-dncm", Version: "2026-06-15T10:00:00Z"}, {List: "fr bloctel", Version: ""}, {List: "", Version: "x"}},
	} {
		if got := DecodeLists(EncodeLists(ls)); !slices.Equal(got, ls) {
			t.Errorf("%v came back as %v", ls, got)
		}
	}
}

func TestRebind(t *testing.T) {
	if got := Rebind("a = ? AND (b, c) < (?, ?)"); got != "a = $1 AND (b, c) < ($2, $3)" {
		t.Errorf("Rebind = %q", got)
	}
}
