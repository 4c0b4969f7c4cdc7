// Package countrytest holds the one table of country inputs that every
// caller of package country is tested against, so the configuration, the
// decision, the caps, the contacts, the footer and the unsubscribe page
// cannot drift apart again.
package countrytest

import "github.com/dncgate/dncgate/country"

// A Code case is a country as a person writes it and what it must mean:
// Want, or an error when Want is country.None.
type Code struct {
	In   string
	Want country.Code
}

// Codes are written codes: case, space and UK as GB are accepted; names,
// alpha-3 codes, unassigned and reserved codes and the empty value are not.
var Codes = []Code{
	{"fr", "FR"},
	{" FR ", "FR"},
	{"UK", "GB"},
	{"uk", "GB"},
	{"gb", "GB"},
	{"Be", "BE"},
	{"XX", country.None},
	{"", country.None},
	{"FRA", country.None},
	{"EU", country.None},
	{"France", country.None},
	{"DD", country.None},
}

// A Domain case is an address's domain and the country its TLD names,
// country.None for none.
type Domain struct {
	In   string
	Want country.Code
}

// Domains cover ccTLDs, .uk under a second level, IDN ccTLDs in Unicode
// and in ASCII, an IDN domain under an ASCII ccTLD, generic TLDs and
// ccTLDs used as generic ones.
var Domains = []Domain{
	{"x.fr", "FR"},
	{"X.FR.", "FR"},
	{"x.co.uk", "GB"},
	{"x.uk", "GB"},
	{"x.be", "BE"},
	{"x.de", "DE"},
	{"пример.рф", "RU"},
	{"xn--e1afmkfd.xn--p1ai", "RU"},
	{"例子.中国", "CN"},
	{"bücher.de", "DE"},
	{"xn--bcher-kva.de", "DE"},
	{"x.com", country.None},
	{"x.io", country.None},
	{"x.co", country.None},
	{"x.eu", country.None},
	{"localhost", country.None},
}

// Language is the footer and page language each Domains case must get
// when no contact says otherwise (English where the country has no
// templates of its own, or none is known).
var Language = map[string]string{
	"x.fr": "fr", "X.FR.": "fr", "x.be": "nl", "x.de": "de", "bücher.de": "de", "xn--bcher-kva.de": "de",
}

// LanguageOf is the language Language gives domain, "en" when unlisted.
func LanguageOf(domain string) string {
	if l, ok := Language[domain]; ok {
		return l
	}
	return "en"
}
