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

	"golang.org/x/net/publicsuffix"

	"github.com/dncgate/dncgate/country"
	"github.com/dncgate/dncgate/lists"
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
// recipient, the recipient's registrable domain, the rep, rep|domain, or a
// constant for org. Every address is the one normalised form of the person
// (lists.NormaliseEmail: case, +tag, Gmail dots, googlemail.com, IDNA), so
// all the spellings of one person share one count, as they share one
// opt-out. An address the scope needs that does not normalise is an
// *AddressError. The store never sees the subject: the Checker keeps
// keyed digests of it.
func Key(r Rule, rep, rcpt string) (string, error) {
	needRep, needRcpt := r.Scope.needs()
	p, err := newParties(rep, rcpt, needRep, needRcpt)
	if err != nil {
		return "", err
	}
	return p.key(r.Scope), nil
}

// DomainKey is Key for a recipient-domain or rep-domain cap given the
// recipient's domain instead of an address (to show or reset its count).
func DomainKey(r Rule, rep, domain string) (string, error) {
	if r.Scope != ScopeRecipientDomain && r.Scope != ScopeRepDomain {
		return "", fmt.Errorf("caps: cap %s has scope %s, which counts no domain", r.Name, r.Scope)
	}
	d, err := RegistrableDomain(domain)
	if err != nil {
		return "", &AddressError{Role: "recipient domain", Err: err}
	}
	p, err := newParties(rep, "", r.Scope == ScopeRepDomain, false)
	if err != nil {
		return "", err
	}
	p.domain = d
	return p.key(r.Scope), nil
}

// needs reports whether a cap of scope s counts the rep, the recipient.
func (s Scope) needs() (rep, rcpt bool) {
	switch s {
	case ScopeRecipient, ScopeRecipientDomain:
		return false, true
	case ScopeRep:
		return true, false
	case ScopeRepDomain:
		return true, true
	}
	return false, false
}

// parties are the rep and the recipient of a send as caps count them,
// normalised once for every cap; "" where no cap needs them.
type parties struct {
	rep, rcpt string
	domain    string // the registrable domain of rcpt
}

// AddressError is an address a cap cannot count: it does not normalise,
// so it has no key that its other spellings share, and counting it under
// any other key would let it pass the cap. The relay refuses such a
// recipient before any cap is asked (it cannot be checked against the
// lists either); a caller that does not must refuse it too.
type AddressError struct {
	Role string // "recipient", "recipient domain" or "rep"
	Err  error  // why, a *lists.ValueError: it names no address
}

func (e *AddressError) Error() string {
	return "caps: the " + e.Role + " cannot be counted: " + e.Err.Error()
}

func (e *AddressError) Unwrap() error { return e.Err }

func newParties(rep, rcpt string, needRep, needRcpt bool) (parties, error) {
	var p parties
	var err error
	if needRcpt {
		if p.rcpt, err = lists.NormaliseEmail(rcpt); err != nil {
			return parties{}, &AddressError{Role: "recipient", Err: err}
		}
		p.domain = registrable(p.rcpt[strings.LastIndexByte(p.rcpt, '@')+1:])
	}
	if needRep {
		if p.rep, err = lists.NormaliseEmail(rep); err != nil {
			return parties{}, &AddressError{Role: "rep", Err: err}
		}
	}
	return p, nil
}

// key is the subject a cap of scope s counts.
func (p parties) key(s Scope) string {
	switch s {
	case ScopeRecipient:
		return p.rcpt
	case ScopeRecipientDomain:
		return p.domain
	case ScopeRep:
		return p.rep
	case ScopeRepDomain:
		return p.rep + "|" + p.domain
	}
	return orgSubject
}

// RegistrableDomain reduces a domain to the part a company registers, by
// the public suffix list: sales.acme.fr counts for acme.fr, and
// a.acme.co.uk for acme.co.uk. The domain is first written as a
// normalised address writes it (lists.NormaliseEmailDomain: IDNA, lower
// case, googlemail.com as gmail.com), so every spelling of one domain
// shares a key; what is no mail domain is an error. A domain that has no
// registrable part (a bare public suffix) stands for itself.
func RegistrableDomain(domain string) (string, error) {
	d, err := lists.NormaliseEmailDomain(domain)
	if err != nil {
		return "", err
	}
	return registrable(d), nil
}

// registrable is RegistrableDomain of a domain already normalised.
func registrable(d string) string {
	if reg, err := publicsuffix.EffectiveTLDPlusOne(d); err == nil {
		return reg
	}
	return d
}
