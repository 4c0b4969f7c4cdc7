// Package caps enforces frequency caps ("no person gets more than 3
// prospecting mails in 30 days") over exact sliding windows that hold
// across every rep and every gateway instance sharing a store.
//
// A recipient's slot in each cap that applies is reserved when the
// recipient is accepted (RCPT), committed when the upstream accepted the
// message for that recipient, and released when the transaction is reset,
// aborted or refused. A reservation nobody commits or releases expires on
// its own after the cap's hold, so a crashed gateway leaks capacity for at
// most that long.
package caps

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"golang.org/x/net/idna"
	"golang.org/x/net/publicsuffix"

	"github.com/dncgate/dncgate/country"
)

// Scope says what a cap counts sends to, or from.
type Scope string

const (
	ScopeRecipient       Scope = "recipient"        // the recipient address
	ScopeRecipientDomain Scope = "recipient-domain" // the recipient's registrable domain
	ScopeRep             Scope = "rep"              // the authenticated rep
	ScopeRepDomain       Scope = "rep-domain"       // one rep to one registrable domain
	ScopeOrg             Scope = "org"              // the whole organisation
)

// Count says what one send is.
type Count string

const (
	// CountMessages counts a message once per key, however many of its
	// recipients share the key (two people at one company are one mail to
	// that company).
	CountMessages Count = "messages"
	// CountRecipients counts every recipient.
	CountRecipients Count = "recipients"
)

// DefaultHold is how long a reservation lives when neither the rule nor
// the Options set one.
const DefaultHold = 10 * time.Minute

// orgSubject is the one key of an org-scoped cap.
const orgSubject = "org"

// Rule is one cap, as configured.
type Rule struct {
	Name   string // shown to the rep in the refusal; letters, digits, '-', '_', '.'
	Scope  Scope
	Limit  int           // sends allowed in any interval of length Window
	Window time.Duration // length of the sliding window
	Count  Count         // "" counts messages
	// Countries restricts the cap to recipients of these countries; empty
	// applies it to every recipient.
	Countries []country.Code
	// Temporary makes a refusal a 4xx (try later) rather than a 5xx.
	Temporary bool
	// Hold is how long a reservation lives unless committed or released;
	// 0 takes Options.Hold. It must exceed the longest transaction from
	// RCPT to the upstream's reply: a commit after the hold expired is
	// still recorded (the mail left), but meanwhile another send may have
	// taken the slot, so the cap can be passed by one.
	Hold time.Duration
}

// Check reports what makes r unusable.
func (r Rule) Check() error {
	switch {
	case r.Name == "":
		return fmt.Errorf("caps: a rule has no name")
	case !knownScope(r.Scope):
		return fmt.Errorf("caps: rule %s: unknown scope %q", r.Name, r.Scope)
	case r.Count != "" && r.Count != CountMessages && r.Count != CountRecipients:
		return fmt.Errorf("caps: rule %s: unknown count %q", r.Name, r.Count)
	case r.Limit < 1:
		return fmt.Errorf("caps: rule %s: limit %d, want at least 1", r.Name, r.Limit)
	case r.Window < time.Millisecond:
		return fmt.Errorf("caps: rule %s: window %s, want at least 1ms", r.Name, r.Window)
	case r.Hold < 0:
		return fmt.Errorf("caps: rule %s: negative hold %s", r.Name, r.Hold)
	case slices.Contains(r.Countries, country.None):
		return fmt.Errorf("caps: rule %s: an empty country", r.Name)
	}
	return nil
}

func knownScope(s Scope) bool {
	switch s {
	case ScopeRecipient, ScopeRecipientDomain, ScopeRep, ScopeRepDomain, ScopeOrg:
		return true
	}
	return false
}

// appliesTo reports whether r governs a recipient of country. A recipient
// whose country is unknown ("") falls only under caps for every country.
func (r Rule) appliesTo(c country.Code) bool {
	return len(r.Countries) == 0 || slices.Contains(r.Countries, c)
}

// perMessage reports whether the recipients of one message share one slot
// of each key.
func (r Rule) perMessage() bool { return r.Count != CountRecipients }

// Key returns the plain subject r counts for a send by rep to rcpt: the
// lower-cased address, the registrable domain, the rep, rep|domain, or a
// constant for org. The store never sees it: the Checker keeps keyed
// digests of it.
func Key(r Rule, rep, rcpt string) string {
	switch r.Scope {
	case ScopeRecipient:
		return normalise(rcpt)
	case ScopeRecipientDomain:
		return RegistrableDomain(domainOf(rcpt))
	case ScopeRep:
		return normalise(rep)
	case ScopeRepDomain:
		return normalise(rep) + "|" + RegistrableDomain(domainOf(rcpt))
	}
	return orgSubject
}

func normalise(addr string) string { return strings.ToLower(strings.TrimSpace(addr)) }

// domainOf returns what follows the last '@' (RFC 5321 §4.1.2: the local
// part may itself hold a quoted '@').
func domainOf(addr string) string {
	addr = strings.TrimSpace(addr)
	return addr[strings.LastIndexByte(addr, '@')+1:]
}

// RegistrableDomain reduces a domain to the part a company registers, by
// the public suffix list: sales.acme.fr counts for acme.fr, and
// a.acme.co.uk for acme.co.uk. Internationalised names are compared in
// their ASCII form, so both spellings of one domain share a key. A domain
// that has no registrable part (an address literal, a bare public suffix)
// stands for itself.
func RegistrableDomain(domain string) string {
	d := strings.TrimSuffix(strings.ToLower(strings.TrimSpace(domain)), ".")
	if a, err := idna.Lookup.ToASCII(d); err == nil {
		d = a
	}
	if strings.HasPrefix(d, "[") {
		return d
	}
	if reg, err := publicsuffix.EffectiveTLDPlusOne(d); err == nil {
		return reg
	}
	return d
}
