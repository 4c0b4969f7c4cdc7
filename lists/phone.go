package lists

import (
	"errors"
	"fmt"
	"strings"
	"unicode"

	"github.com/nyaruka/phonenumbers"

	"github.com/dncgate/dncgate/country"
)

// Limits on a phone value before parsing: E.164 numbers have at most 15
// digits (ITU-T E.164 §6.1), libphonenumber accepts national numbers up
// to 17 plus a country code of up to 3.
const (
	maxPhoneInput  = 64
	maxPhoneDigits = 20
)

// phoneSeparators are the characters people put between digit groups;
// they carry no meaning and are dropped.
const phoneSeparators = " \t\u00a0.-()/"

// PhoneNormaliser turns phone numbers the way lists and CRM exports write
// them into E.164 ("+33612345678"), reading national numbers in the
// list's country. It is safe for concurrent use.
type PhoneNormaliser struct {
	region string
	fast   *fastPlan // nil when the region's plan is outside the fast path
}

// NewPhoneNormaliser returns a normaliser for numbers of a list whose
// country is region (ISO 3166 alpha-2; "UK" is read as "GB"). With an
// empty region, only international numbers (+… or 00…) are accepted.
func NewPhoneNormaliser(region string) (*PhoneNormaliser, error) {
	r, err := phoneRegion(region)
	if err != nil {
		return nil, err
	}
	return &PhoneNormaliser{region: r, fast: newFastPlan(r)}, nil
}

func phoneRegion(region string) (string, error) {
	if strings.TrimSpace(region) == "" {
		return "", nil
	}
	cc, err := country.Parse(region)
	if err != nil {
		return "", fmt.Errorf("phone numbers: %w", err)
	}
	if !phonenumbers.GetSupportedRegions()[cc.String()] {
		return "", fmt.Errorf("phone numbers: no numbering plan for country %s", cc)
	}
	return cc.String(), nil
}

// Region returns the region national numbers are read in ("" for none).
func (p *PhoneNormaliser) Region() string { return p.region }

// Normalise returns the E.164 form of s, or a *ValueError saying why s is
// not a valid number. It gives the same result as NormalisePhone.
func (p *PhoneNormaliser) Normalise(s string) (string, error) {
	clean, err := cleanPhone(s)
	if err != nil {
		return "", err
	}
	if p.fast != nil {
		if e164, problem, ok := p.fast.normalise(clean); ok {
			if problem != "" {
				return "", invalid(KindPhone, problem)
			}
			return e164, nil
		}
	}
	return parsePhone(clean, p.region)
}

// NormalisePhone returns the E.164 form of s read with region as the
// default country, using libphonenumber for every step. A
// PhoneNormaliser gives the same results faster.
func NormalisePhone(s, region string) (string, error) {
	r, err := phoneRegion(region)
	if err != nil {
		return "", err
	}
	clean, err := cleanPhone(s)
	if err != nil {
		return "", err
	}
	return parsePhone(clean, r)
}

// cleanPhone keeps the digits of s and a leading '+', drops separators,
// and reads a leading "00" as the international prefix whatever the
// list's country (it is that prefix in all of Europe). Letters are
// refused rather than read as a keypad word or an extension.
func cleanPhone(s string) (string, error) {
	s = strings.TrimSpace(s)
	if len(s) > maxPhoneInput {
		return "", invalid(KindPhone, "longer than 64 characters")
	}
	var buf [maxPhoneInput + 1]byte
	out := buf[:1] // out[0] holds the '+' when there is one
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			out = append(out, byte(r))
		case r == '+' && len(out) == 1 && buf[0] == 0:
			buf[0] = '+'
		case strings.ContainsRune(phoneSeparators, r):
		default:
			return "", invalid(KindPhone, phoneCharProblem(r))
		}
	}
	if buf[0] == 0 && len(out) > 3 && out[1] == '0' && out[2] == '0' {
		out = out[2:]
		out[0] = '+'
	}
	digits := len(out) - 1
	switch {
	case digits == 0:
		return "", invalid(KindPhone, "no digits")
	case digits > maxPhoneDigits:
		return "", invalid(KindPhone, "more than 20 digits")
	case out[0] == '+':
		return string(out), nil
	}
	return string(out[1:]), nil
}

func phoneCharProblem(r rune) string {
	switch {
	case r == '+':
		return "+ inside the number"
	case unicode.IsLetter(r):
		return "letters in the number"
	}
	return fmt.Sprintf("character %q in the number", r)
}

// parsePhone is the reference path: libphonenumber parses, validates and
// formats the cleaned number.
func parsePhone(clean, region string) (string, error) {
	num, err := phonenumbers.Parse(clean, region)
	if err != nil {
		return "", invalid(KindPhone, parseProblem(err, clean, region))
	}
	if !phonenumbers.IsValidNumber(num) {
		return "", invalid(KindPhone, invalidProblem(num))
	}
	return phonenumbers.Format(num, phonenumbers.E164), nil
}

func parseProblem(err error, clean, region string) string {
	switch {
	case errors.Is(err, phonenumbers.ErrInvalidCountryCode) && region == "" && !strings.HasPrefix(clean, "+"):
		return "national number in a list without a country; write it with +country code"
	case errors.Is(err, phonenumbers.ErrInvalidCountryCode):
		return "unknown country code"
	case errors.Is(err, phonenumbers.ErrTooShortNSN), errors.Is(err, phonenumbers.ErrTooShortAfterIDD):
		return "too short"
	case errors.Is(err, phonenumbers.ErrNumTooLong):
		return "too long"
	case errors.Is(err, phonenumbers.ErrNotANumber):
		return "not a phone number"
	}
	return err.Error()
}

// invalidProblem says why libphonenumber finds a parsed number invalid.
func invalidProblem(num *phonenumbers.PhoneNumber) string {
	cc := int(num.GetCountryCode())
	return lengthProblem(phonenumbers.IsPossibleNumberWithReason(num), planName(cc))
}

func planName(cc int) string {
	return fmt.Sprintf("%s (+%d)", phonenumbers.GetRegionCodeForCountryCode(cc), cc)
}

// lengthProblem words why a number is invalid from what its length says.
func lengthProblem(r phonenumbers.ValidationResult, plan string) string {
	switch r {
	case phonenumbers.TOO_SHORT:
		return "too short for " + plan
	case phonenumbers.TOO_LONG:
		return "too long for " + plan
	case phonenumbers.INVALID_LENGTH:
		return "wrong length for " + plan
	case phonenumbers.IS_POSSIBLE_LOCAL_ONLY:
		return "local number without its area code for " + plan
	case phonenumbers.INVALID_COUNTRY_CODE:
		return "unknown country code"
	}
	return "not a valid number in " + plan
}
