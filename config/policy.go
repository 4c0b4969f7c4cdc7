package config

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"golang.org/x/net/idna"

	"github.com/dncgate/dncgate/country"
)

// Policy is the [policy] section: which e-mail prospecting each recipient
// country allows to each recipient type. Package suppression turns it into
// decisions; the values here are kept as written.
type Policy struct {
	// DefaultCountry is the recipient country when neither a contact nor
	// the address's country-code TLD says it; "" means no country.
	DefaultCountry string `toml:"default_country"`
	// Presets turns on the shipped rules for FR, DE, ES, GB, BE, NL and IT,
	// defaults to review, not legal advice.
	Presets bool `toml:"presets"`
	// ConsumerDomains and RoleLocalParts extend the shipped lists.
	ConsumerDomains []string     `toml:"consumer_domains"`
	RoleLocalParts  []string     `toml:"role_local_parts"`
	Rules           []PolicyRule `toml:"rule"`
}

// PolicyRule is one [[policy.rule]] table: the actions for one country
// from a date on. A type left out falls back to the preset, then to the
// "*" rule.
type PolicyRule struct {
	Country    string       `toml:"country"` // ISO code, "UK" read as "GB", or "*"
	Since      Date         `toml:"since"`   // zero: no start date
	Consumer   PolicyAction `toml:"consumer"`
	SoleTrader PolicyAction `toml:"sole_trader"`
	Business   PolicyAction `toml:"business"`
	Role       PolicyAction `toml:"role"`
}

// PolicyAction is what a rule gives a recipient type; "" leaves it out.
type PolicyAction string

const (
	PolicyAllow   PolicyAction = "allow"   // allowed, with the opt-out footer
	PolicyConsent PolicyAction = "consent" // only with fresh consent or clearance
	PolicyRefuse  PolicyAction = "refuse"
)

// AnyCountry is the country of the rule for every country without one.
const AnyCountry = "*"

// dateLayout is how a date is written in the file: an ISO 8601 calendar date.
const dateLayout = "2006-01-02"

// Date is a calendar day written "2026-08-11", read as midnight UTC.
type Date struct{ time.Time }

// UnmarshalText reads a date; "" is the zero Date (no date).
func (d *Date) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		d.Time = time.Time{}
		return nil
	}
	t, err := time.Parse(dateLayout, string(b))
	if err != nil {
		return fmt.Errorf("invalid date %q (write a day as \"2026-08-11\")", b)
	}
	d.Time = t
	return nil
}

// MarshalText writes the date as UnmarshalText reads it.
func (d Date) MarshalText() ([]byte, error) {
	return []byte(d.String()), nil
}

func (d Date) String() string {
	if d.IsZero() {
		return ""
	}
	return d.UTC().Format(dateLayout)
}

// defaultPolicy ships with the presets on and no rules of the admin's.
func defaultPolicy() Policy {
	return Policy{Presets: true}
}

// ruleCountry is the country a rule names, for telling rules apart: the
// code as package country reads it, "*", or the value as written when it
// is neither (checkPolicyRule reports it).
func ruleCountry(s string) string {
	if strings.TrimSpace(s) == AnyCountry {
		return AnyCountry
	}
	if cc, err := country.Parse(s); err == nil {
		return cc.String()
	}
	return s
}

// PolicyWarnings lists policy settings that work but leave recipients to a
// fallback the admin may not have meant; serve logs them and config check
// prints them.
func (c *Config) PolicyWarnings() []string {
	p := c.Policy
	if strings.TrimSpace(p.DefaultCountry) != "" {
		return nil
	}
	star := p.Presets
	for _, r := range p.Rules {
		star = star || strings.TrimSpace(r.Country) == AnyCountry
	}
	if !star {
		return []string{`policy.default_country is not set and no "*" rule applies (presets are off): ` +
			`a recipient whose country cannot be learnt (no CRM contact, no country-code TLD) is allowed; ` +
			`set policy.default_country or add a [[policy.rule]] for country "*"`}
	}
	return []string{`policy.default_country is not set: a recipient whose country cannot be learnt ` +
		`(no CRM contact, no country-code TLD) falls under the "*" rule (shipped: consumers and sole traders need consent); ` +
		`set policy.default_country to the country most of your prospects are in`}
}

// Actions returns the rule's actions by recipient type name ("consumer",
// "sole-trader", "business", "role"), leaving out the types it does not set.
func (r PolicyRule) Actions() map[string]PolicyAction {
	out := map[string]PolicyAction{}
	for _, f := range r.fields() {
		if f.action != "" {
			out[f.typ] = f.action
		}
	}
	return out
}

type ruleField struct {
	key    string // the TOML key
	typ    string // the recipient type it sets
	action PolicyAction
}

func (r PolicyRule) fields() []ruleField {
	return []ruleField{
		{"consumer", "consumer", r.Consumer},
		{"sole_trader", "sole-trader", r.SoleTrader},
		{"business", "business", r.Business},
		{"role", "role", r.Role},
	}
}

func (c *Config) checkPolicy(col *collector) {
	p := c.Policy
	if p.DefaultCountry != "" {
		if _, err := country.Parse(p.DefaultCountry); err != nil {
			col.add("policy.default_country", "%v", err)
		}
	}
	for i, d := range p.ConsumerDomains {
		if err := CheckMailDomain(d); err != nil {
			col.add(fmt.Sprintf("policy.consumer_domains[%d]", i), "%v", err)
		}
	}
	for i, l := range p.RoleLocalParts {
		if err := checkLocalPart(l); err != nil {
			col.add(fmt.Sprintf("policy.role_local_parts[%d]", i), "%v", err)
		}
	}
	seen := map[string]string{}
	for i, r := range p.Rules {
		key := "policy.rule[" + strconv.Itoa(i) + "]"
		checkPolicyRule(col, key, r)
		id := ruleCountry(r.Country) + "@" + r.Since.String()
		if prev, ok := seen[id]; ok && r.Country != "" {
			col.add(key+".since", "%s already sets country %q %s", prev, ruleCountry(r.Country), sinceText(r.Since))
		}
		seen[id] = key
	}
}

func sinceText(d Date) string {
	if d.IsZero() {
		return "without a start date"
	}
	return "from " + d.String()
}

func checkPolicyRule(col *collector, key string, r PolicyRule) {
	switch cc := ruleCountry(r.Country); {
	case strings.TrimSpace(cc) == "":
		col.add(key+".country", `required: an ISO 3166-1 alpha-2 code (such as "FR") or "*" for every other country`)
	case cc == AnyCountry:
	default:
		if _, err := country.Parse(r.Country); err != nil {
			col.add(key+".country", "%v", err)
		}
	}
	set := 0
	for _, f := range r.fields() {
		switch f.action {
		case "":
		case PolicyAllow, PolicyConsent, PolicyRefuse:
			set++
		default:
			col.add(key+"."+f.key, `unknown action %q; use "allow", "consent" or "refuse"`, f.action)
			set++
		}
	}
	if set == 0 {
		col.add(key, "sets no action: give consumer, sole_trader, business or role")
	}
}

// CheckMailDomain accepts a domain name as it follows "@", in Unicode or
// ASCII (IDNA 2008, RFC 5891), without a trailing dot.
func CheckMailDomain(d string) error {
	if d == "" || strings.ContainsAny(d, "@ ") || strings.HasSuffix(d, ".") {
		return fmt.Errorf("%q is not a domain name (such as \"orange.fr\")", d)
	}
	a, err := idna.Lookup.ToASCII(d)
	if err != nil || !strings.Contains(a, ".") || len(a) > maxDomain {
		return fmt.Errorf("%q is not a domain name (such as \"orange.fr\")", d)
	}
	for _, label := range strings.Split(a, ".") {
		if label == "" || len(label) > maxLabel {
			return fmt.Errorf("%q is not a domain name (such as \"orange.fr\")", d)
		}
	}
	return nil
}

// Lengths of a domain name and of each label (RFC 1035 §2.3.4).
const (
	maxDomain = 253
	maxLabel  = 63
)

// checkLocalPart accepts what may stand before "@" in a dot-atom (RFC 5322
// §3.4.1), without a +tag: the tag is dropped before matching anyway.
func checkLocalPart(l string) error {
	const atext = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*-/=?^_`{|}~."
	switch {
	case strings.Contains(l, "+"):
		return fmt.Errorf("%q: leave out the +tag, it is ignored when matching", l)
	case l == "" || strings.Trim(l, atext) != "":
		return fmt.Errorf("%q is not the part of an address before '@' (such as \"info\")", l)
	}
	return nil
}
