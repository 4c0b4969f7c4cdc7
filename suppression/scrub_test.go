package suppression_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/dncgate/dncgate/config"
	"github.com/dncgate/dncgate/internal/teststore"
	"github.com/dncgate/dncgate/listdb"
	"github.com/dncgate/dncgate/suppression"
)

// TestScrub writes a prospect file back with each row's verdict, the
// header, columns and delimiter kept.
func TestScrub(t *testing.T) {
	teststore.Each(t, func(t *testing.T, st teststore.Store) {
		f := newFixture(t, st, config.Policy{})
		f.list(listdb.Meta{Name: "dnc", Kind: "email", Model: "deny"}, "jan@firma.test")
		in := "name;E-mail\nJan;JAN@firma.test\nPiet;piet@firma.test\nNobody;not-an-address\nEmpty\n"
		var out bytes.Buffer
		var calls int
		counts, err := f.chk.Scrub(t.Context(), strings.NewReader(in), &out, suppression.ScrubOptions{
			Column: "e-mail", Now: func() time.Time { return t0 }, Progress: func(suppression.ScrubCounts) { calls++ }})
		if err != nil {
			t.Fatal(err)
		}
		if want := (suppression.ScrubCounts{Allowed: 1, Refused: 2, Invalid: 1}); counts != want || counts.Rows() != 4 || calls != 4 {
			t.Errorf("counts %+v (%d progress calls), want %+v", counts, calls, want)
		}
		lines := strings.Split(strings.TrimSpace(out.String()), "\n")
		want := []string{"name;E-mail;verdict;reason", "Jan;JAN@firma.test;refused;list:dnc", "Piet;piet@firma.test;allowed;allowed",
			"Nobody;not-an-address;refused;address", "Empty;invalid;line 5, E-mail: missing"}
		if len(lines) != len(want) {
			t.Fatalf("scrub wrote %q", lines)
		}
		for i, w := range want {
			if !strings.HasPrefix(lines[i], w) {
				t.Errorf("line %d: %q, want %q…", i+1, lines[i], w)
			}
		}
		if _, err := f.chk.Scrub(t.Context(), strings.NewReader(in), &out, suppression.ScrubOptions{Column: "mail"}); err == nil ||
			!strings.Contains(err.Error(), "mail") {
			t.Errorf("scrub by a missing column: %v", err)
		}
	})
}
