package suppression

import (
	"testing"

	"github.com/dncgate/dncgate/config"
)

func TestCountry(t *testing.T) {
	withDefault := mustPolicy(t, config.Policy{DefaultCountry: "fr"})
	without := mustPolicy(t, config.Policy{})
	cases := []struct {
		p                *Policy
		contact, domain  string
		wantCC, wantFrom string
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
		{without, "", "xn--p1ai", "", ""},
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
