package stamp

import (
	"strings"

	"golang.org/x/text/language"
)

// CountryOfAddress guesses a recipient's country from the country-code
// top-level domain of the address (RFC 1591 §2: two-letter TLDs follow
// ISO 3166-1): "FR" for jean@acme.fr, "GB" for .uk, "" for .com and the
// other generic TLDs, and for ccTLDs sold as generic names (.io, .co, .tv).
func CountryOfAddress(addr string) string {
	at := strings.LastIndexByte(addr, '@')
	domain := strings.ToLower(strings.TrimRight(strings.TrimSpace(addr[at+1:]), ".>"))
	tld := domain[strings.LastIndexByte(domain, '.')+1:]
	if len(tld) != 2 || genericCC[tld] {
		return ""
	}
	if tld == "uk" {
		return "GB"
	}
	r, err := language.ParseRegion(tld)
	if err != nil || !r.IsCountry() {
		return ""
	}
	return r.String()
}

// genericCC are country-code TLDs mostly registered by people with no tie
// to the country, so they say nothing about the reader's language.
var genericCC = map[string]bool{"io": true, "co": true, "tv": true, "me": true, "ai": true, "fm": true, "ly": true, "gg": true}
