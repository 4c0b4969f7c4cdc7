package listdb

import (
	"strings"
	"time"
)

// State is whether a list may be relied on.
type State string

const (
	Fresh State = "fresh"
	Stale State = "stale"
	// Empty: no max age, never imported, nothing added by hand.
	Empty State = "empty"
)

// Freshness is a list's state at one instant, as lists ls, lists show
// and the console say it.
type Freshness struct {
	State State
	// NeverImported: a list with a max age and no import, stale.
	NeverImported bool
	// WarnOnly: the list is set to warn when stale; the gateway still
	// sends.
	WarnOnly bool
	// Due is when the version in force goes stale; zero without a max
	// age or an import.
	Due time.Time
}

// FreshnessOf says whether a list may be relied on: one older than its
// max age is stale, and so is one with a max age never imported; a list
// without a max age never imported is empty, unless it holds entries by
// hand, which never age.
func FreshnessOf(m Meta, v Version, man Manual, now time.Time) Freshness {
	f := Freshness{WarnOnly: m.WarnStale}
	if v.ID != "" && m.MaxAge > 0 {
		f.Due = v.ImportedAt.Add(m.MaxAge)
	}
	switch {
	case v.ID == "" && m.MaxAge == 0 && man.Added > 0:
		f.State = Fresh
	case v.ID == "" && m.MaxAge == 0:
		f.State = Empty
	case v.ID == "":
		f.State, f.NeverImported = Stale, true
	case m.MaxAge == 0 || now.Sub(v.ImportedAt) <= m.MaxAge:
		f.State = Fresh
	default:
		f.State = Stale
	}
	if f.State != Stale {
		f.WarnOnly = false
	}
	return f
}

// DueWithin reports whether a fresh list goes stale within d of now.
func (f Freshness) DueWithin(now time.Time, d time.Duration) bool {
	return f.State == Fresh && !f.Due.IsZero() && f.Due.Sub(now) <= d
}

// String is the state as lists ls writes it: "fresh", "empty", "stale",
// "stale (never imported, warn only)".
func (f Freshness) String() string {
	var why []string
	if f.NeverImported {
		why = append(why, "never imported")
	}
	if f.WarnOnly {
		why = append(why, "warn only")
	}
	if len(why) == 0 {
		return string(f.State)
	}
	return string(f.State) + " (" + strings.Join(why, ", ") + ")"
}
