package suppression

import (
	"testing"

	"github.com/dncgate/dncgate/config"
	"github.com/dncgate/dncgate/country"
	"github.com/dncgate/dncgate/country/countrytest"
)

func TestCountry(t *testing.T) {
	withDefault := mustPolicy(t, config.Policy{DefaultCountry: "fr"})
	without := mustPolicy(t, config.Policy{})
	cases := []struct {
		p               *Policy
		contact, domain string
		wantCC          country.Code
		wantFrom        string
	}{
		{withDefault, "DE", "acme.fr", "DE", FromContact},
		{withDefault, "uk", "acme.fr", "GB", FromContact},
		{withDefault, "", "acme.de", "DE", FromTLD},
		{withDefault, "", "acme.co.uk", "GB", FromTLD},
		{withDefault, "", "acme.uk", "GB", FromTLD},
		{withDefault, "", "ACME.BE.", "BE", FromTLD},
		// Internationalised domains, in Unicode or ASCII form.
		{withDefault, "", "bücher.de", "DE", FromTLD},
		{withDefault, "", "xn--bcher-kva.es", "ES", FromTLD},
		// Generic TLDs and ccTLDs used as generic ones say nothing.
		{withDefault, "", "acme.com", "FR", FromDefault},
		{withDefault, "", "acme.io", "FR", FromDefault},
		{withDefault, "", "acme.eu", "FR", FromDefault},
		{without, "", "acme.com", "", ""},
		// A contact country that is no ISO code is ignored.
		{withDefault, "France", "acme.nl", "NL", FromTLD},
		{without, "XX", "acme.com", "", ""},
	}
	for _, c := range cases {
		cc, from := c.p.Country(c.contact, c.domain)
		if cc != c.wantCC || from != c.wantFrom {
			t.Errorf("Country(%q, %q) = %q, %q; want %q, %q", c.contact, c.domain, cc, from, c.wantCC, c.wantFrom)
		}
	}
}

// TestCountryTable gives the decision the shared table: a contact's
// country reads as package country reads it (one it refuses is ignored),
// and a domain's TLD names the country FromDomain names.
func TestCountryTable(t *testing.T) {
	p := mustPolicy(t, config.Policy{})
	for _, c := range countrytest.Codes {
		cc, from := p.Country(c.In, "acme.com")
		if want := map[bool]string{true: FromContact, false: ""}[c.Want.Known()]; cc != c.Want || from != want {
			t.Errorf("contact country %q: %q, %q; want %q", c.In, cc, from, c.Want)
		}
	}
	for _, c := range countrytest.Domains {
		cc, from := p.Country("", c.In)
		if want := map[bool]string{true: FromTLD, false: ""}[c.Want.Known()]; cc != c.Want || from != want {
			t.Errorf("domain %q: %q, %q; want %q", c.In, cc, from, c.Want)
		}
	}
}
