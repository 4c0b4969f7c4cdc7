package suppression

import (
	"strings"

	"golang.org/x/net/idna"
	"golang.org/x/text/language"
)

// Where Country found a recipient's country.
const (
	FromContact = "contact"
	FromTLD     = "tld"
	FromDefault = "default"
)

// genericCCTLDs are country-code TLDs sold and used world-wide as if they
// were generic (.io for start-ups, .co for companies, .tv for media): they
// say nothing of where the recipient lives. The list follows the TLDs
// search engines stop geotargeting for that reason.
var genericCCTLDs = map[string]bool{
	"ad": true, "ai": true, "as": true, "bz": true, "cc": true, "cd": true,
	"co": true, "dj": true, "fm": true, "gg": true, "io": true, "la": true,
	"me": true, "ms": true, "nu": true, "sc": true, "sr": true, "tk": true,
	"tv": true, "vc": true, "ws": true,
}

// Country returns the recipient's country: the contact's when given,
// else the one the address domain's country-code TLD names (.uk → GB;
// generic TLDs and ccTLDs used as generic ones give nothing), else the
// configured default. from says which ("contact", "tld", "default"); both
// are "" when nothing is known and no default is configured.
//
// A contact country that is not an ISO code is ignored rather than trusted.
func (p *Policy) Country(contactCountry, domain string) (country, from string) {
	if cc, ok := isoCountry(contactCountry); ok {
		return cc, FromContact
	}
	if cc, ok := tldCountry(domain); ok {
		return cc, FromTLD
	}
	if p.defaultCountry != "" {
		return p.defaultCountry, FromDefault
	}
	return "", ""
}

// isoCountry normalises an ISO 3166-1 alpha-2 code ("uk" → "GB") and
// reports whether it names a country.
func isoCountry(s string) (string, bool) {
	cc := normCountry(s)
	if len(cc) != 2 {
		return "", false
	}
	r, err := language.ParseRegion(cc)
	if err != nil || !r.IsCountry() || r.String() != cc {
		return "", false
	}
	return cc, true
}

// normCountry upper-cases a country code and reads "UK" as "GB": the
// United Kingdom's ISO code is GB, its TLD and everyday name UK.
func normCountry(s string) string {
	cc := strings.ToUpper(strings.TrimSpace(s))
	if cc == "UK" {
		return "GB"
	}
	return cc
}

// tldCountry maps the last label of domain to a country. Internationalised
// domains given in Unicode are converted first (RFC 5891), so "bücher.de"
// and "xn--bcher-kva.de" both give DE.
func tldCountry(domain string) (string, bool) {
	d := strings.TrimSuffix(strings.ToLower(domain), ".")
	if !isASCII(d) {
		a, err := idna.Lookup.ToASCII(d)
		if err != nil {
			return "", false
		}
		d = a
	}
	tld := d[strings.LastIndexByte(d, '.')+1:]
	if len(tld) != 2 || genericCCTLDs[tld] {
		return "", false
	}
	return isoCountry(tld)
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
