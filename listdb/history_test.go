package listdb

import (
	"errors"
	"strings"
	"testing"
)

func TestRollbackTarget(t *testing.T) {
	h := func(inForce string, ids ...string) []VersionInfo {
		var out []VersionInfo
		for _, id := range ids {
			out = append(out, VersionInfo{Version: Version{ID: id}, InForce: id == inForce})
		}
		SortHistory(out)
		return out
	}
	for _, c := range []struct {
		name, version string
		hist          []VersionInfo
		from, to      string
		err           string
	}{
		{"newest before", "", h("12", "9", "12", "10"), "12", "10", ""},
		{"named newer", "12", h("10", "9", "12", "10"), "10", "12", ""},
		{"named older", "9", h("12", "9", "12", "10"), "12", "9", ""},
		{"nothing older", "", h("9", "9", "12", "10"), "", "", "keeps no version imported before version 9, the one in force (kept: 12, 10)"},
		{"swept", "3", h("12", "9", "12", "10"), "", "", "does not keep version 3 (kept: 10, 9; in force: 12)"},
		{"in force", "12", h("12", "12", "10"), "", "", "version 12 of list l is the one in force (kept: 10)"},
		{"none kept", "", h("12", "12"), "", "", "(kept: none)"},
		{"never imported", "", nil, "", "", "has no version in force"},
	} {
		from, to, err := RollbackTarget("l", c.hist, c.version)
		if c.err != "" {
			if !errors.Is(err, ErrNotKept) || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%s: %v; want ErrNotKept saying %q", c.name, err, c.err)
			}
			continue
		}
		if err != nil || from.ID != c.from || to.ID != c.to {
			t.Errorf("%s: from %s to %s, %v; want from %s to %s", c.name, from.ID, to.ID, err, c.from, c.to)
		}
	}
}

func TestKeep(t *testing.T) {
	zero, five, neg := 0, 5, -1
	for _, c := range []struct {
		keep *int
		want int
	}{{nil, DefaultKeepVersions}, {&zero, 0}, {&five, 5}, {&neg, DefaultKeepVersions}} {
		if got := (Meta{KeepVersions: c.keep}).Keep(); got != c.want {
			t.Errorf("Keep of %v = %d, want %d", c.keep, got, c.want)
		}
	}
}
