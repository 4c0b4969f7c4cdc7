package suppression

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"golang.org/x/net/idna"

	"github.com/dncgate/dncgate/config"
	"github.com/dncgate/dncgate/country"
)

// Action is what a policy rule gives a recipient type.
type Action string

const (
	Allow   Action = "allow"   // allowed, with the opt-out footer
	Consent Action = "consent" // only when on a fresh clearance/consent list governing the country
	Refuse  Action = "refuse"
)

// AnyCountry is the country of the fallback rule.
const AnyCountry = config.AnyCountry

// dateLayout writes a rule's start date in explanations.
const dateLayout = "2006-01-02"

// Rule is what applies to one recipient.
type Rule struct {
	Country string // the rule's country, "*" for the fallback
	Action  Action
	Since   time.Time // zero when the rule has no start date
	Preset  bool      // a shipped preset, not written by the admin
}

// Policy answers, for a recipient, its country, its type and the rule in
// force. It holds no store and is safe for concurrent use once built.
type Policy struct {
	defaultCountry country.Code
	admin          map[string][]ruleSet // by country, "*" included; latest Since first
	presets        map[string][]ruleSet // nil when presets are off
	consumer       map[string]bool      // consumer mailbox domains, ASCII lower case
	roles          map[string]bool      // generic local parts, lower case
}

// ruleSet is one rule table: the actions it sets for one country from a
// date on.
type ruleSet struct {
	country string
	since   time.Time
	actions map[RecipientType]Action
	preset  bool
}

// NewPolicy builds the policy of the [policy] section. It checks again
// what config.Validate checks, so a policy built in code is as sound as one
// read from a file.
func NewPolicy(c config.Policy) (*Policy, error) {
	p := &Policy{
		admin:    map[string][]ruleSet{},
		consumer: map[string]bool{},
		roles:    map[string]bool{},
	}
	if c.DefaultCountry != "" {
		cc, err := country.Parse(c.DefaultCountry)
		if err != nil {
			return nil, fmt.Errorf("policy: default country: %w", err)
		}
		p.defaultCountry = cc
	}
	if err := p.addRules(c.Rules); err != nil {
		return nil, err
	}
	if c.Presets {
		p.presets = map[string][]ruleSet{}
		for _, rs := range presets() {
			rs.preset = true
			p.presets[rs.country] = append(p.presets[rs.country], rs)
		}
	}
	return p, p.addNames(c)
}

func (p *Policy) addRules(rules []config.PolicyRule) error {
	for i, r := range rules {
		rs, err := newRuleSet(r)
		if err != nil {
			return fmt.Errorf("policy: rule %d: %w", i+1, err)
		}
		for _, prev := range p.admin[rs.country] {
			if prev.since.Equal(rs.since) {
				return fmt.Errorf("policy: rule %d: another rule for %s starts on the same date", i+1, rs.country)
			}
		}
		p.admin[rs.country] = append(p.admin[rs.country], rs)
	}
	for _, sets := range p.admin {
		sort.Slice(sets, func(i, j int) bool { return sets[i].since.After(sets[j].since) })
	}
	return nil
}

func newRuleSet(r config.PolicyRule) (ruleSet, error) {
	rs := ruleSet{since: r.Since.Time, actions: map[RecipientType]Action{}}
	rs.country = strings.TrimSpace(r.Country)
	if rs.country != AnyCountry {
		cc, err := country.Parse(r.Country)
		if err != nil {
			return rs, fmt.Errorf("%w, nor %q", err, AnyCountry)
		}
		rs.country = cc.String()
	}
	for typ, a := range r.Actions() {
		switch Action(a) {
		case Allow, Consent, Refuse:
			rs.actions[RecipientType(typ)] = Action(a)
		default:
			return rs, fmt.Errorf("%s: unknown action %q", typ, a)
		}
	}
	if len(rs.actions) == 0 {
		return rs, fmt.Errorf("no action for any recipient type")
	}
	return rs, nil
}

// addNames loads the shipped consumer domains and role local parts, then
// the configured ones.
func (p *Policy) addNames(c config.Policy) error {
	for _, d := range append(consumerDomains(), c.ConsumerDomains...) {
		if err := config.CheckMailDomain(d); err != nil {
			return fmt.Errorf("policy: consumer domain: %w", err)
		}
		a, _ := idna.Lookup.ToASCII(d)
		p.consumer[strings.ToLower(a)] = true
	}
	for _, l := range append(roleLocalParts(), c.RoleLocalParts...) {
		base := baseLocal(l)
		if base == "" {
			return fmt.Errorf("policy: role local part %q is empty", l)
		}
		p.roles[base] = true
	}
	return nil
}

// Rule returns the rule in force at `at` for that country and type: the
// admin's rules for the country first, then its preset (when presets are
// on), then the admin's "*" rules, then the "*" preset, then the built-in
// fallback, Allow (reached only with presets off). Among one country's
// rules the one with the latest Since <= at that sets the type wins. An
// unknown country (None) gets the "*" rules.
func (p *Policy) Rule(c country.Code, t RecipientType, at time.Time) Rule {
	if cc := c.String(); c.Known() {
		if r, ok := pick(p.admin[cc], t, at); ok {
			return r
		}
		if r, ok := pick(p.presets[cc], t, at); ok {
			return r
		}
	}
	if r, ok := pick(p.admin[AnyCountry], t, at); ok {
		return r
	}
	if r, ok := pick(p.presets[AnyCountry], t, at); ok {
		return r
	}
	// Not written by the admin: the shipped fallback.
	return Rule{Country: AnyCountry, Action: Allow, Preset: true}
}

// pick returns the first set, latest first, that has started at `at` and
// sets t.
func pick(sets []ruleSet, t RecipientType, at time.Time) (Rule, bool) {
	for _, rs := range sets {
		a, ok := rs.actions[t]
		if ok && !rs.since.After(at) {
			return Rule{Country: rs.country, Action: a, Since: rs.since, Preset: rs.preset}, true
		}
	}
	return Rule{}, false
}

// Explain says in one sentence what the rule asks for t, such as "FR rule
// since 2026-08-11: consumers need consent or clearance". It is ASCII and
// short enough for an SMTP reply line (RFC 5321 §4.5.3.1.5).
func (r Rule) Explain(t RecipientType) string {
	var b strings.Builder
	switch {
	case r.Country == AnyCountry && r.Preset:
		b.WriteString("default rule")
	case r.Country == AnyCountry:
		b.WriteString("rule for other countries")
	case r.Preset:
		b.WriteString(asciiCode(r.Country) + " preset rule")
	default:
		b.WriteString(asciiCode(r.Country) + " rule")
	}
	if !r.Since.IsZero() {
		b.WriteString(" since " + r.Since.UTC().Format(dateLayout))
	}
	b.WriteString(": ")
	who := plural(t)
	switch r.Action {
	case Consent:
		b.WriteString(who + " need consent or clearance")
	case Refuse:
		b.WriteString("no e-mail prospecting to " + who)
	default:
		b.WriteString(who + " may be mailed with an opt-out footer")
	}
	return b.String()
}

// plural names a recipient type in explanations.
func plural(t RecipientType) string {
	switch t {
	case Consumer:
		return "consumers"
	case SoleTrader:
		return "sole traders"
	case Business:
		return "business contacts"
	case Role:
		return "generic business addresses"
	}
	return "recipients"
}

// asciiCode keeps a country code fit for a reply line; rules built by
// NewPolicy only hold ISO codes, a Rule made by hand might not.
func asciiCode(cc string) string {
	if len(cc) == 2 && isUpper(cc[0]) && isUpper(cc[1]) {
		return cc
	}
	return "??"
}

func isUpper(c byte) bool { return c >= 'A' && c <= 'Z' }
