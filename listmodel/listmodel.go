// Package listmodel names how a suppression list is read and the one list
// the gateway keeps itself. It imports nothing of the module, so the
// configuration, the stored description of a list, the lists commands and
// the decision share these constants instead of repeating the strings.
package listmodel

import "fmt"

// Model is how a list is read: as the people who must not be mailed, or as
// the people who were checked and may be.
type Model string

// The models, as the configuration, the lists commands and the store write
// them.
const (
	Deny      Model = "deny"      // who is on it must not be mailed
	Clearance Model = "clearance" // who is on it was checked and may be
)

// OptOut is the name of the company's own opt-out list: everyone who
// unsubscribed or whom an admin opted out. It is a Deny list the gateway
// manages; no configuration may declare it.
const OptOut = "opt-out"

// Bounced is the name of the list of recipients whose mailbox failed for
// good (or failed too often for now): a Deny list the gateway fills from
// the bounces it receives; no configuration may declare it.
const Bounced = "bounced"

// Valid reports whether m is one of the models.
func (m Model) Valid() bool { return m == Deny || m == Clearance }

// Parse reads a model by its name.
func Parse(s string) (Model, error) {
	if m := Model(s); m.Valid() {
		return m, nil
	}
	return "", fmt.Errorf("model %q: want %s or %s", s, Deny, Clearance)
}
