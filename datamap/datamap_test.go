package datamap

import (
	"bytes"
	"slices"
	"strings"
	"testing"
)

func TestUncovered(t *testing.T) {
	entries := []Entry{
		{Kind: "a", Form: FormDigest, Tables: []string{"users", "d_*"}, Keys: []string{"le"}},
		{Kind: "b", Form: FormNone, Tables: []string{"identity"}},
	}
	if got := Uncovered(entries, []string{"users", "d_202612", "identity", "deliveries", "d"}, false); !slices.Equal(got, []string{"deliveries", "d"}) {
		t.Errorf("tables: %v", got)
	}
	if got := Uncovered(entries, []string{"le", "users"}, true); !slices.Equal(got, []string{"users"}) {
		t.Errorf("keys: %v", got)
	}
	var b bytes.Buffer
	if err := WriteText(&b, entries); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "a\n  what:") || strings.Contains(b.String(), "b\n  what:") || !strings.Contains(b.String(), "no personal data in: b") {
		t.Errorf("text:\n%s", b.String())
	}
}
