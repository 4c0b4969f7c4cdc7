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

func TestExtraRoundTrip(t *testing.T) {
	d := ledger.Decision{Sender: "a@b.example", Country: "FR", CountryFrom: "tld", RcptType: "business",
		Rule: "FR business", Match: ledger.Match{Version: "v7", KeyKind: "phone"}, Cap: "rep 1/50",
		Listener: "submission", Client: "192.0.2.1:25", Lists: []ledger.ListVersion{{List: "opt-out", Version: "v1"}}}
	var got ledger.Decision
	if err := DecodeExtra(EncodeExtra(d), &got); err != nil {
		t.Fatal(err)
	}
	if got.Sender != d.Sender || got.Client != d.Client || got.Match != d.Match || !slices.Equal(got.Lists, d.Lists) || got.Cap != d.Cap {
		t.Errorf("%+v came back as %+v", d, got)
	}
	b := EncodeExtra(d)
	for _, bad := range [][]byte{nil, {9}, b[:len(b)-1], append(b[:len(b):len(b)], 'x')} {
		if err := DecodeExtra(bad, &got); err == nil {
			t.Errorf("DecodeExtra(%q) accepted it", bad)
		}
	}
}
