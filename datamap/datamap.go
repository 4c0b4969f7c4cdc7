// Package datamap describes the personal data dncgate keeps: what, where,
// in what form, for how long, and who can read it. Each package that
// stores a kind declares it beside the code that stores it (a DataMap
// variable), and the binary collects them, so the map cannot drift from
// the code; the stores' tests fail when a table or key kind has no
// declaration.
package datamap

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
)

// Forms the data is kept in.
const (
	FormDigest = "keyed digest"                  // HMAC-SHA-256 under the digest key
	FormMasked = "masked"                        // j***@acme.fr
	FormPlain  = "plain"                         // as given
	FormNone   = "no personal data"              // declared so the coverage test knows it
	FormMixed  = "masked, with its keyed digest" // both, for exact search
)

// Entry is one kind of data.
type Entry struct {
	Kind      string `json:"kind"`      // short name: "opt-outs"
	What      string `json:"what"`      // what it is and why it is kept
	Where     string `json:"where"`     // the store, file, table or key pattern
	Form      string `json:"form"`      // one of the Form constants
	Retention string `json:"retention"` // for how long, and what deletes it
	Readers   string `json:"readers"`   // who can read it
	// Tables and Keys are what the entry covers, for the coverage tests:
	// embedded or ledger tables (a trailing * matches a prefix) and Redis
	// key kinds (the first part of a key's name).
	Tables []string `json:"tables,omitempty"`
	Keys   []string `json:"redis_keys,omitempty"`
}

// Personal reports whether the entry holds personal data.
func (e Entry) Personal() bool { return e.Form != FormNone }

// Uncovered returns the names in have that no entry's Tables (keys false)
// or Keys (keys true) cover.
func Uncovered(entries []Entry, have []string, keys bool) []string {
	var out []string
	for _, h := range have {
		if !slices.ContainsFunc(entries, func(e Entry) bool { return covers(e, h, keys) }) {
			out = append(out, h)
		}
	}
	return out
}

func covers(e Entry, name string, keys bool) bool {
	list := e.Tables
	if keys {
		list = e.Keys
	}
	for _, p := range list {
		if p == name || (strings.HasSuffix(p, "*") && strings.HasPrefix(name, strings.TrimSuffix(p, "*"))) {
			return true
		}
	}
	return false
}

// Collect joins the packages' declarations in the order given.
func Collect(parts ...[]Entry) []Entry {
	var all []Entry
	for _, p := range parts {
		all = append(all, p...)
	}
	return all
}

// WriteText prints the personal data entries, one block each, then the
// names of what holds none.
func WriteText(w io.Writer, entries []Entry) error {
	var none []string
	for _, e := range entries {
		if !e.Personal() {
			none = append(none, e.Kind+" ("+e.Where+")")
			continue
		}
		fmt.Fprintf(w, "%s\n  what:      %s\n  where:     %s\n  form:      %s\n  retention: %s\n  readers:   %s\n\n",
			e.Kind, e.What, e.Where, e.Form, e.Retention, e.Readers)
	}
	_, err := fmt.Fprintf(w, "no personal data in: %s\n", strings.Join(none, "; "))
	return err
}

// WriteJSON prints every entry as a JSON array.
func WriteJSON(w io.Writer, entries []Entry) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(entries)
}
