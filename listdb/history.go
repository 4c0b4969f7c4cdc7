package listdb

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// SortHistory orders versions as History returns them, newest import
// first: by id, which both stores hand out increasing.
func SortHistory(h []VersionInfo) {
	slices.SortFunc(h, func(a, b VersionInfo) int { return cmp.Compare(idOrder(b.ID), idOrder(a.ID)) })
}

func idOrder(id string) int64 {
	n, _ := strconv.ParseInt(id, 10, 64)
	return n
}

// RollbackTarget picks, from a list's history (as History returns it),
// the version in force and the kept version a Rollback to version goes
// to: that one, or for "" the newest kept version imported before the one
// in force. Both stores ask it, so the rule and its errors are one.
func RollbackTarget(name string, h []VersionInfo, version string) (from, to Version, err error) {
	var kept []string
	cur := -1
	for i, v := range h {
		if v.InForce {
			cur = i
			from = v.Version
		} else {
			kept = append(kept, v.ID)
		}
	}
	keptText := "none"
	if len(kept) > 0 {
		keptText = strings.Join(kept, ", ")
	}
	switch {
	case cur < 0:
		return from, to, fmt.Errorf("%w: list %s has no version in force to roll back from (kept: %s)", ErrNotKept, name, keptText)
	case version == from.ID:
		return from, to, fmt.Errorf("%w: version %s of list %s is the one in force (kept: %s)", ErrNotKept, version, name, keptText)
	}
	for i, v := range h {
		if v.InForce || version == "" && i < cur || version != "" && v.ID != version {
			continue
		}
		return from, v.Version, nil
	}
	if version == "" {
		return from, to, fmt.Errorf("%w: list %s keeps no version imported before version %s, the one in force (kept: %s)",
			ErrNotKept, name, from.ID, keptText)
	}
	return from, to, fmt.Errorf("%w: list %s does not keep version %s (kept: %s; in force: %s)", ErrNotKept, name, version, keptText, from.ID)
}
