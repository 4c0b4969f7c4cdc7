package contactdb

import (
	"fmt"
	"strings"

	"golang.org/x/text/language"
)

// typeWords maps the words CRM exports use for a recipient type, lower
// case, to the type.
var typeWords = map[string]string{
	"consumer": TypeConsumer, "b2c": TypeConsumer, "private": TypeConsumer, "individual": TypeConsumer,
	"sole-trader": TypeSoleTrader, "sole trader": TypeSoleTrader, "self-employed": TypeSoleTrader,
	"freelance": TypeSoleTrader,
	"business":  TypeBusiness, "b2b": TypeBusiness, "company": TypeBusiness, "corporate": TypeBusiness,
}

// ParseType reads a recipient type as CRM exports write it, ignoring case
// and surrounding space; "" for an empty value. A word it does not know
// is an error, never a guess: the type decides whether consent is needed.
func ParseType(s string) (string, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "" {
		return "", nil
	}
	if t, ok := typeWords[s]; ok {
		return t, nil
	}
	return "", fmt.Errorf("recipient type %q is not consumer (b2c, private, individual), "+
		"sole-trader (sole trader, self-employed, freelance) or business (b2b, company, corporate)", s)
}

// ParseCountry reads an ISO 3166-1 alpha-2 country code in any case, "UK"
// read as "GB"; "" for an empty value. Names, alpha-3 codes and codes of
// no country (EU, ZZ) are errors.
func ParseCountry(s string) (string, error) {
	s = strings.ToUpper(strings.TrimSpace(s))
	switch {
	case s == "":
		return "", nil
	case s == "UK":
		return "GB", nil
	case len(s) != 2 || !isUpper(s[0]) || !isUpper(s[1]):
		return "", fmt.Errorf("country %q is not an ISO 3166-1 alpha-2 code such as FR, DE, GB", s)
	}
	r, err := language.ParseRegion(s)
	if err != nil || !r.IsCountry() {
		return "", fmt.Errorf("country %q is not an ISO 3166-1 alpha-2 code of a country", s)
	}
	return r.String(), nil
}
