package lists

import (
	"errors"
	"strings"
	"testing"
)

func TestNormaliseEmail(t *testing.T) {
	tests := []struct{ in, want string }{
		{"jean@acme.fr", "jean@acme.fr"},
		{"  Jean.Dupont@ACME.FR \t", "jean.dupont@acme.fr"},
		{"jean+promo@acme.fr", "jean@acme.fr"},
		{"jean+a+b@acme.fr", "jean@acme.fr"},
		{"+promo@acme.fr", "+promo@acme.fr"},           // nothing left before the tag
		{"jean.+promo@acme.fr", "jean.+promo@acme.fr"}, // "jean." is no local part
		{"jörg@bücher.de", "jörg@xn--bcher-kva.de"},
		{"JÖRG@BÜCHER.DE", "jörg@xn--bcher-kva.de"},
		{"jorg@xn--bcher-kva.de", "jorg@xn--bcher-kva.de"},
		{"jorg@XN--BCHER-KVA.DE", "jorg@xn--bcher-kva.de"},
		{"info@straße.de", "info@xn--strae-oqa.de"}, // UTS #46 non-transitional keeps ß
		{"info@example.com.", "info@example.com"},
		{"user@mail.example.co.uk", "user@mail.example.co.uk"},
		{"o'brien@example.ie", "o'brien@example.ie"},
		{"!#$%&'*/=?^_`{|}~-@example.com", "!#$%&'*/=?^_`{|}~-@example.com"},
		// Gmail ignores dots, and googlemail.com is the same mailbox.
		{"Jean.Dupont@gmail.com", "jeandupont@gmail.com"},
		{"j.e.a.n.dupont+news@GoogleMail.com", "jeandupont@gmail.com"},
		{"jean.+x@gmail.com", "jean@gmail.com"},
		// Dots matter elsewhere.
		{"jean.dupont@outlook.com", "jean.dupont@outlook.com"},
	}
	for _, tt := range tests {
		got, err := NormaliseEmail(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("NormaliseEmail(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestNormaliseEmailInvalid(t *testing.T) {
	tests := []struct{ in, reason string }{
		{"", "empty address"},
		{"   ", "empty address"},
		{"jean.acme.fr", "no @"},
		{"@acme.fr", "nothing before @"},
		{"jean@", "nothing after @"},
		{"jean@dupont@acme.fr", "more than one @"},
		{`"jean dupont"@acme.fr`, "quoted local part not supported"},
		{"jean dupont@acme.fr", "space in the address"},
		{"Jean Dupont <jean@acme.fr>", "angle brackets or a display name; give the bare address"},
		{"<jean@acme.fr>", "angle brackets or a display name; give the bare address"},
		{"jean\x00@acme.fr", "control character in the address"},
		{"jean\u200b@acme.fr", "control character in the address"},
		{"jean,dupont@acme.fr", "character , not allowed in the local part"},
		{"jean(x)@acme.fr", "character ( not allowed in the local part"},
		{".jean@acme.fr", "local part starts or ends with a dot"},
		{"jean.@acme.fr", "local part starts or ends with a dot"},
		{"jean..dupont@acme.fr", "two dots in a row in the local part"},
		{"\xffjean@acme.fr", "not valid UTF-8"},
		{strings.Repeat("a", 65) + "@acme.fr", "local part longer than 64 octets"},
		{strings.Repeat("a", 64) + "@" + strings.Repeat("b", 63) + "." + strings.Repeat("c", 63) + "." + strings.Repeat("d", 60) + ".fr", "address longer than 254 characters"},
		{"jean@" + strings.Repeat("b", 64) + ".fr", "domain: invalid label \"" + strings.Repeat("b", 64) + "\""},
		{"jean@localhost", "domain has a single label; want a name such as example.com"},
		{"jean@[192.0.2.1]", "an address literal, not a domain"},
		{"jean@192.0.2.1", "an IP address, not a domain"},
		{"jean@acme..fr", "domain has an empty label (a dot too many)"},
		{"jean@-acme.fr", "domain: invalid label \"-acme\""},
		{"jean@acme_corp.fr", "domain: disallowed rune U+005F"},
		{"jean@xn--zz.fr", "domain: invalid label \"zz\""},
		{"jean@acme fr", "domain: disallowed rune U+0020"},
	}
	for _, tt := range tests {
		_, err := NormaliseEmail(tt.in)
		var ve *ValueError
		if !errors.As(err, &ve) || ve.Kind != KindEmail || ve.Reason != tt.reason {
			t.Errorf("NormaliseEmail(%q) error = %v; want reason %q", tt.in, err, tt.reason)
		}
	}
}

func TestNormaliseDomain(t *testing.T) {
	tests := []struct{ in, want, reason string }{
		{"acme.fr", "acme.fr", ""},
		{" ACME.FR. ", "acme.fr", ""},
		{"Bücher.de", "xn--bcher-kva.de", ""},
		{"xn--bcher-kva.de", "xn--bcher-kva.de", ""},
		{"sales.acme.co.uk", "sales.acme.co.uk", ""},
		{"", "", "empty domain"},
		{".", "", "empty domain"},
		{"fr", "", "domain has a single label; want a name such as example.com"},
		{"co.uk", "", "a public suffix such as a TLD; an entry must be a registrable domain or below"},
		{"*.acme.fr", "", "wildcard: an entry already covers its subdomains"},
		{"https://acme.fr/", "", "a URL, not a domain"},
		{"jean@acme.fr", "", "domain: disallowed rune U+0040"},
		{"acme..fr", "", "domain has an empty label (a dot too many)"},
		{".acme.fr", "", "domain has an empty label (a dot too many)"},
		{strings.Repeat("a", 63) + "." + strings.Repeat("b", 63) + "." + strings.Repeat("c", 63) + "." + strings.Repeat("d", 63) + ".fr", "", "domain longer than 253 characters"},
	}
	for _, tt := range tests {
		got, err := NormaliseDomain(tt.in)
		if tt.reason == "" {
			if err != nil || got != tt.want {
				t.Errorf("NormaliseDomain(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
			continue
		}
		var ve *ValueError
		if !errors.As(err, &ve) || ve.Kind != KindDomain || ve.Reason != tt.reason {
			t.Errorf("NormaliseDomain(%q) error = %v; want reason %q", tt.in, err, tt.reason)
		}
	}
}

func TestDomainAndParents(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"acme.fr", []string{"acme.fr"}},
		{"sales.acme.fr", []string{"sales.acme.fr", "acme.fr"}},
		{"a.b.acme.co.uk", []string{"a.b.acme.co.uk", "b.acme.co.uk", "acme.co.uk"}},
		{"acme.co.uk", []string{"acme.co.uk"}},
		{"mail.xn--bcher-kva.de", []string{"mail.xn--bcher-kva.de", "xn--bcher-kva.de"}},
		{"co.uk", []string{"co.uk"}},
		{"fr", []string{"fr"}},
	}
	for _, tt := range tests {
		if got := DomainAndParents(tt.in); strings.Join(got, " ") != strings.Join(tt.want, " ") {
			t.Errorf("DomainAndParents(%q) = %q; want %q", tt.in, got, tt.want)
		}
	}
}
