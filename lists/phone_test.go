package lists

import (
	"errors"
	"strings"
	"testing"

	"github.com/dncgate/dncgate/country"
	"github.com/dncgate/dncgate/country/countrytest"
)

func TestNormalisePhone(t *testing.T) {
	tests := []struct {
		region, in, want string
	}{
		// France: 10 digits with the trunk 0, in pairs, dotted, dashed.
		{"FR", "06 12 34 56 78", "+33612345678"},
		{"FR", "06.12.34.56.78", "+33612345678"},
		{"FR", "06-12-34-56-78", "+33612345678"},
		{"FR", "0612345678", "+33612345678"},
		{"FR", "+33 6 12 34 56 78", "+33612345678"},
		{"FR", "+33 (0)6 12 34 56 78", "+33612345678"},
		{"FR", "0033 6 12 34 56 78", "+33612345678"},
		{"FR", "01 23 45 67 89", "+33123456789"},
		{"fr", " 07 81 23 45 67 ", "+33781234567"},
		// Belgium: mobiles 04xx, Brussels 02.
		{"BE", "0470 12 34 56", "+32470123456"},
		{"BE", "02 223 45 67", "+3222234567"},
		{"BE", "+32 470 12 34 56", "+32470123456"},
		// United Kingdom, also under the name UK.
		{"GB", "07911 123456", "+447911123456"},
		{"UK", "020 7946 0958", "+442079460958"},
		{"GB", "+44 (0)20 7946 0958", "+442079460958"},
		{"GB", "(020) 7946-0958", "+442079460958"},
		// Germany: area codes of varying length, slashes.
		{"DE", "030 12345678", "+493012345678"},
		{"DE", "030/12345678", "+493012345678"},
		{"DE", "0151 23456789", "+4915123456789"},
		{"DE", "+49 (0)30 12345678", "+493012345678"},
		// Spain: no trunk prefix.
		{"ES", "612 34 56 78", "+34612345678"},
		{"ES", "91 123 45 67", "+34911234567"},
		{"ES", "+34 612 345 678", "+34612345678"},
		// Italy: the leading 0 of fixed lines is part of the number.
		{"IT", "02 1234 5678", "+390212345678"},
		{"IT", "347 123 4567", "+393471234567"},
		{"IT", "+39 02 1234 5678", "+390212345678"},
		{"IT", "0039 347 1234567", "+393471234567"},
		// Netherlands.
		{"NL", "06 12345678", "+31612345678"},
		{"NL", "020-123 4567", "+31201234567"},
		{"NL", "+31 6 12345678", "+31612345678"},
		// A number of another country in a French list.
		{"FR", "+32 470 12 34 56", "+32470123456"},
		{"FR", "0044 7911 123456", "+447911123456"},
		// A list without a country takes international numbers.
		{"", "+33 6 12 34 56 78", "+33612345678"},
	}
	for _, tt := range tests {
		got, err := NormalisePhone(tt.in, tt.region)
		if err != nil || got != tt.want {
			t.Errorf("NormalisePhone(%q, %q) = %q, %v; want %q", tt.in, tt.region, got, err, tt.want)
		}
		p, err := NewPhoneNormaliser(tt.region)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := p.Normalise(tt.in); err != nil || got != tt.want {
			t.Errorf("PhoneNormaliser(%q).Normalise(%q) = %q, %v; want %q", tt.region, tt.in, got, err, tt.want)
		}
	}
}

func TestNormalisePhoneInvalid(t *testing.T) {
	tests := []struct {
		region, in, reason string
	}{
		{"FR", "", "no digits"},
		{"FR", " - ", "no digits"},
		{"FR", "06 12 34 56", "too short for FR (+33)"},
		{"FR", "06 12 34 56 78 90", "too long for FR (+33)"},
		{"FR", "000 12 34 56", "unknown country code"},
		{"FR", "06 12 34 56 7a", "letters in the number"},
		{"FR", "0612345678 ext 12", "letters in the number"},
		{"FR", "+33 6 12+34 56 78", "+ inside the number"},
		{"FR", "06_12_34_56_78", "character '_' in the number"},
		{"FR", "+999 123 456", "unknown country code"},
		{"FR", "1", "not a phone number"},
		{"FR", "12345678901234567890123", "more than 20 digits"},
		{"FR", strings.Repeat("1 ", 40), "longer than 64 characters"},
		{"BE", "0470 12 3", "too short for BE (+32)"},
		{"GB", "07911 1234567", "too long for GB (+44)"},
		{"GB", "07911 1234", "not a valid number in GB (+44)"},
		{"DE", "0151 2", "not a valid number in DE (+49)"},
		{"DE", "+49 30 1", "local number without its area code for DE (+49)"},
		{"ES", "112 34 56 78", "not a valid number in ES (+34)"},
		{"NL", "06 1234567890", "not a valid number in NL (+31)"},
		{"IT", "+39 9", "too short"},
		{"IT", "0212", "too short for IT (+39)"},
		{"", "06 12 34 56 78", "national number in a list without a country; write it with +country code"},
	}
	for _, tt := range tests {
		_, err := NormalisePhone(tt.in, tt.region)
		var ve *ValueError
		if !errors.As(err, &ve) || ve.Kind != KindPhone || ve.Reason != tt.reason {
			t.Errorf("NormalisePhone(%q, %q) error = %v; want reason %q", tt.in, tt.region, err, tt.reason)
		}
		p, _ := NewPhoneNormaliser(tt.region)
		if _, err2 := p.Normalise(tt.in); err2 == nil || err2.Error() != err.Error() {
			t.Errorf("PhoneNormaliser(%q).Normalise(%q) error = %v; want %v", tt.region, tt.in, err2, err)
		}
	}
}

func TestNewPhoneNormaliserRegion(t *testing.T) {
	if _, err := NewPhoneNormaliser("XX"); err == nil || !strings.Contains(err.Error(), `"XX"`) {
		t.Errorf("region XX: error = %v; want one naming it", err)
	}
	p, err := NewPhoneNormaliser(" uk ")
	if err != nil || p.Region() != "GB" {
		t.Errorf("region uk: %v, %v; want GB", p, err)
	}
}

// TestPhoneRegionTable: a list's or a contact's region reads as package
// country reads a code (the shared table); "" is no region.
func TestPhoneRegionTable(t *testing.T) {
	for _, c := range countrytest.Codes {
		got, err := phoneRegion(c.In)
		switch {
		case c.In == "":
			if err != nil || got != "" {
				t.Errorf("phoneRegion(%q) = %q, %v; want none", c.In, got, err)
			}
		case c.Want == country.None:
			if err == nil {
				t.Errorf("phoneRegion(%q) = %q, want an error", c.In, got)
			}
		case err != nil || got != c.Want.String():
			t.Errorf("phoneRegion(%q) = %q, %v; want %s", c.In, got, err, c.Want)
		}
	}
}
