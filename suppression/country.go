package suppression

import "github.com/dncgate/dncgate/country"

// Where Country found a recipient's country.
const (
	FromContact = "contact"
	FromTLD     = "tld"
	FromDefault = "default"
)

// Country returns the recipient's country: the contact's when given,
// else the one the address domain's country-code TLD names (.uk → GB;
// generic TLDs and ccTLDs used as generic ones give nothing), else the
// configured default. from says which ("contact", "tld", "default"); both
// are "" when nothing is known and no default is configured.
//
// A contact country that is not an ISO code is ignored rather than trusted.
func (p *Policy) Country(contactCountry, domain string) (cc country.Code, from string) {
	if cc, err := country.Parse(contactCountry); err == nil {
		return cc, FromContact
	}
	if cc, ok := country.FromDomain(domain); ok {
		return cc, FromTLD
	}
	if p.defaultCountry.Known() {
		return p.defaultCountry, FromDefault
	}
	return country.None, ""
}
