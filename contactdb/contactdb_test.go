package contactdb

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"github.com/dncgate/dncgate/country"
	"github.com/dncgate/dncgate/country/countrytest"
	"github.com/dncgate/dncgate/listdb"
)

func phones(n int) []listdb.Digest {
	out := make([]listdb.Digest, n)
	for i := range out {
		for j := range out[i] {
			out[i][j] = byte(i*31 + j)
		}
	}
	return out
}

func TestEncodeRoundTrip(t *testing.T) {
	for _, c := range []Contact{
		{},
		{Country: "FR", Type: TypeConsumer, Phones: phones(1)},
		{Country: "GB", Type: TypeSoleTrader},
		{Type: TypeBusiness, Phones: phones(MaxPhones)},
		{Country: "BE", Language: "fr", Phones: phones(3)},
	} {
		b, err := Encode(c)
		if err != nil {
			t.Fatalf("Encode(%+v): %v", c, err)
		}
		if want := headerSize + len(c.Phones)*listdb.DigestSize; len(b) != want {
			t.Errorf("Encode(%+v) is %d bytes, want %d", c, len(b), want)
		}
		got, err := Decode(b)
		if err != nil || got.Country != c.Country || got.Type != c.Type || got.Language != c.Language || !slices.Equal(got.Phones, c.Phones) {
			t.Errorf("Decode(Encode(%+v)) = %+v, %v", c, got, err)
		}
	}
}

func TestEncodeRefuses(t *testing.T) {
	for _, c := range []Contact{
		{Country: "fr"}, {Country: "FRA"}, {Country: "F"},
		{Type: "b2b"}, {Type: "Consumer"},
		{Phones: phones(MaxPhones + 1)},
		{Language: "FR"}, {Language: "fra"}, {Language: "f"}, {Language: "fr-be"},
	} {
		if b, err := Encode(c); err == nil {
			t.Errorf("Encode(%+v) = %x, want an error", c, b)
		}
	}
}

func TestDecodeRefusesMalformed(t *testing.T) {
	good, _ := Encode(Contact{Country: "DE", Type: TypeBusiness, Phones: phones(2)})
	for name, b := range map[string][]byte{
		"empty":       nil,
		"short":       good[:3],
		"format":      append([]byte{9}, good[1:]...),
		"cut phone":   good[:len(good)-1],
		"type code":   {recordFormat, 'D', 'E', 7, 0, 0},
		"country":     {recordFormat, 'd', 'e', 0, 0, 0},
		"language":    {recordFormat, 'D', 'E', 0, 'F', 'R'},
		"many phones": append([]byte{recordFormat, 0, 0, 0}, bytes.Repeat([]byte{1}, (MaxPhones+1)*listdb.DigestSize)...),
	} {
		if c, err := Decode(b); err == nil {
			t.Errorf("%s: Decode = %+v, want an error", name, c)
		}
	}
}

// A record written before contacts had a language still reads.
func TestDecodeFormat1(t *testing.T) {
	ph := phones(2)
	b := append([]byte{1, 'F', 'R', byte(typeCode(TypeBusiness))}, ph[0][:]...)
	b = append(b, ph[1][:]...)
	c, err := Decode(b)
	if err != nil || c.Country != "FR" || c.Type != TypeBusiness || c.Language != "" || !slices.Equal(c.Phones, ph) {
		t.Fatalf("Decode(format 1) = %+v, %v", c, err)
	}
	if b, _ := Encode(Contact{Country: "FR", Language: "fr", Phones: phones(3)}); len(b) > 64 {
		t.Errorf("a contact with three phones takes %d bytes, over Redis's listpack value limit", len(b))
	}
}

func TestParseLanguage(t *testing.T) {
	for in, want := range map[string]string{"fr": "fr", " FR ": "fr", "fr-BE": "fr", "nl_be": "nl", "": ""} {
		if got, err := ParseLanguage(in); err != nil || got != want {
			t.Errorf("ParseLanguage(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"french", "f", "fra", "1r", "-fr"} {
		if _, err := ParseLanguage(bad); err == nil || !strings.Contains(err.Error(), bad) {
			t.Errorf("ParseLanguage(%q) = %v, want an error naming it", bad, err)
		}
	}
}

func TestParseType(t *testing.T) {
	for in, want := range map[string]string{
		"": "", " B2C ": TypeConsumer, "Private": TypeConsumer, "individual": TypeConsumer, "consumer": TypeConsumer,
		"Sole Trader": TypeSoleTrader, "self-employed": TypeSoleTrader, "FREELANCE": TypeSoleTrader, "sole-trader": TypeSoleTrader,
		"b2b": TypeBusiness, "Company": TypeBusiness, "corporate": TypeBusiness, "business": TypeBusiness,
	} {
		if got, err := ParseType(in); err != nil || got != want {
			t.Errorf("ParseType(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"prospect", "b2b2c", "soletrader", "gov"} {
		if got, err := ParseType(in); err == nil || !strings.Contains(err.Error(), "consumer") {
			t.Errorf("ParseType(%q) = %q, %v; want an error naming the accepted types", in, got, err)
		}
	}
}

// TestParseCountry runs the shared table: a contact's country reads as
// package country reads it, except that an empty cell is no country.
func TestParseCountry(t *testing.T) {
	for _, c := range countrytest.Codes {
		got, err := ParseCountry(c.In)
		switch {
		case c.In == "":
			if err != nil || got != country.None {
				t.Errorf("ParseCountry(%q) = %q, %v; want no country", c.In, got, err)
			}
		case c.Want == country.None && (err == nil || !strings.Contains(err.Error(), `"`+c.In+`"`)):
			t.Errorf("ParseCountry(%q) = %q, %v; want an error naming it", c.In, got, err)
		case c.Want != country.None && (err != nil || got != c.Want):
			t.Errorf("ParseCountry(%q) = %q, %v; want %q", c.In, got, err, c.Want)
		}
	}
	for _, in := range []string{"ZZ", "F1", "é", "XK"} {
		if got, err := ParseCountry(in); err == nil {
			t.Errorf("ParseCountry(%q) = %q, want an error", in, got)
		}
	}
}
