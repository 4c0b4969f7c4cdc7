package country_test

import (
	"errors"
	"strings"
	"testing"

	"golang.org/x/net/idna"
	"golang.org/x/text/language"

	"github.com/dncgate/dncgate/country"
	"github.com/dncgate/dncgate/country/countrytest"
)

func TestParse(t *testing.T) {
	for _, c := range countrytest.Codes {
		got, err := country.Parse(c.In)
		switch {
		case c.Want == country.None && err == nil:
			t.Errorf("Parse(%q) = %q, want an error", c.In, got)
		case c.Want == country.None:
			var e *country.Error
			if !errors.As(err, &e) || !strings.Contains(err.Error(), `"`+c.In+`"`) {
				t.Errorf("Parse(%q) error %v does not name the value", c.In, err)
			}
		case err != nil || got != c.Want:
			t.Errorf("Parse(%q) = %q, %v; want %q", c.In, got, err, c.Want)
		}
	}
}

func TestFromDomain(t *testing.T) {
	for _, c := range countrytest.Domains {
		got, ok := country.FromDomain(c.In)
		if got != c.Want || ok != (c.Want != country.None) {
			t.Errorf("FromDomain(%q) = %q, %v; want %q", c.In, got, ok, c.Want)
		}
		if got, _ := country.FromAddress("Jean.Dupont@" + c.In); got != c.Want {
			t.Errorf("FromAddress(jean.dupont@%s) = %q, want %q", c.In, got, c.Want)
		}
	}
	for _, a := range []string{"", "no-at-sign", "<a@b.fr>"} {
		got, ok := country.FromAddress(a)
		if want := a == "<a@b.fr>"; ok != want || (ok && got != "FR") {
			t.Errorf("FromAddress(%q) = %q, %v", a, got, ok)
		}
	}
}

// TestAssignedCodes checks the table of codes against the CLDR data of
// x/text: 249 codes, each a country with an alpha-3 code of its own.
func TestAssignedCodes(t *testing.T) {
	n := 0
	for _, a := range strings.Split("AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW", " ") {
		c, err := country.Parse(a)
		if err != nil || string(c) != a {
			t.Errorf("Parse(%q) = %q, %v", a, c, err)
		}
		r, err := language.ParseRegion(a)
		if err != nil || !r.IsCountry() || r.ISO3() == "ZZZ" {
			t.Errorf("%s is not a country in CLDR", a)
		}
		n++
	}
	if n != 249 {
		t.Errorf("%d codes, ISO 3166-1 assigns 249", n)
	}
}

// TestIDNTLDs checks each internationalised ccTLD against its Unicode
// form.
func TestIDNTLDs(t *testing.T) {
	for u, want := range map[string]country.Code{
		"рф": "RU", "бел": "BY", "укр": "UA", "срб": "RS", "мкд": "MK", "мон": "MN", "бг": "BG",
		"қаз": "KZ", "ελ": "GR", "中国": "CN", "中國": "CN", "香港": "HK", "台湾": "TW", "台灣": "TW",
		"新加坡": "SG", "澳門": "MO", "한국": "KR", "مصر": "EG", "السعودية": "SA", "امارات": "AE",
		"ایران": "IR", "ไทย": "TH", "გე": "GE", "հայ": "AM", "ישראל": "IL",
	} {
		a, err := idna.Lookup.ToASCII(u)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range []string{"x." + u, "x." + a} {
			if got, ok := country.FromDomain(d); !ok || got != want {
				t.Errorf("FromDomain(%q) = %q, want %q", d, got, want)
			}
		}
	}
}
