package suppression

import (
	"testing"

	"github.com/dncgate/dncgate/config"
)

func TestType(t *testing.T) {
	p := mustPolicy(t, config.Policy{
		ConsumerDomains: []string{"Fournisseur.EXAMPLE", "bücher-post.de"},
		RoleLocalParts:  []string{"Recrutement"},
	})
	cases := []struct {
		contact, local, domain string
		want                   RecipientType
	}{
		{"", "jean.dupont", "gmail.com", Consumer},
		{"", "jean", "orange.fr", Consumer},
		{"", "hans", "web.de", Consumer},
		{"", "x", "hotmail.co.uk", Consumer},
		// Subdomains of a consumer domain are the provider's.
		{"", "x", "mail.free.fr", Consumer},
		{"", "x", "notgmail.com", Business},
		{"", "x", "gmail.com.acme.fr", Business},
		// A consumer domain wins over a generic local part.
		{"", "info", "gmail.com", Consumer},
		{"", "info", "acme.fr", Role},
		{"", "sales+fr", "acme.fr", Role},
		{"", "kontakt", "acme.de", Role},
		{"", "ventas", "acme.es", Role},
		{"", "jean.dupont", "acme.fr", Business},
		{"", "information", "acme.fr", Business},
		// Configured additions, matched whatever their case; an IDN
		// domain is matched in its ASCII form.
		{"", "x", "fournisseur.example", Consumer},
		{"", "x", "xn--bcher-post-9db.de", Consumer},
		{"", "recrutement", "acme.fr", Role},
		// The contact's type wins, except a business contact's role mailbox.
		{"consumer", "info", "acme.fr", Consumer},
		{"sole-trader", "jean", "gmail.com", SoleTrader},
		{"Sole_Trader", "jean", "acme.fr", SoleTrader},
		{"business", "jean", "gmail.com", Business},
		{"business", "info+x", "acme.fr", Role},
		{"role", "jean", "acme.fr", Role},
		// An unknown contact type is ignored.
		{"vip", "jean", "gmail.com", Consumer},
	}
	for _, c := range cases {
		if got := p.Type(c.contact, c.local, c.domain); got != c.want {
			t.Errorf("Type(%q, %q, %q) = %s, want %s", c.contact, c.local, c.domain, got, c.want)
		}
	}
}

func TestShippedLists(t *testing.T) {
	if n := len(consumerDomains()); n < 60 {
		t.Errorf("%d consumer domains shipped, want at least 60", n)
	}
	seen := map[string]bool{}
	for _, d := range consumerDomains() {
		if seen[d] {
			t.Errorf("consumer domain %q listed twice", d)
		}
		seen[d] = true
		if err := config.CheckMailDomain(d); err != nil {
			t.Errorf("shipped consumer domain: %v", err)
		}
	}
	for _, must := range []string{"gmail.com", "googlemail.com", "icloud.com", "orange.fr", "free.fr", "laposte.net", "gmx.net", "t-online.de", "libero.it", "telefonica.net", "skynet.be", "kpnmail.nl", "btinternet.com"} {
		if !seen[must] {
			t.Errorf("%s is not shipped", must)
		}
	}
	roles := map[string]bool{}
	for _, l := range roleLocalParts() {
		if roles[l] || l != baseLocal(l) {
			t.Errorf("role local part %q is repeated or not lower case without a tag", l)
		}
		roles[l] = true
	}
}
