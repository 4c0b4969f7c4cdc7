package contactdb

import (
	"fmt"
	"strings"

	"github.com/dncgate/dncgate/country"
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

// ParseLanguage reads a contact's language as CRM exports write it:
// an ISO 639-1 code, alone or as the first subtag of a tag ("fr",
// "FR", "fr-BE", "fr_BE"); "" for an empty cell. Anything else is an
// error naming the value, never a guess.
func ParseLanguage(s string) (string, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	if t == "" {
		return "", nil
	}
	primary, _, _ := strings.Cut(strings.ReplaceAll(t, "_", "-"), "-")
	if len(primary) != 2 || strings.Trim(primary, "abcdefghijklmnopqrstuvwxyz") != "" {
		return "", fmt.Errorf("language %q is not an ISO 639-1 code such as fr, nl or de (a tag such as fr-BE is read as fr)", s)
	}
	return primary, nil
}

// ParseCountry reads a contact's country as package country does ("uk"
// is GB); an empty cell is no country, not an error, since CRM exports
// often leave it blank.
func ParseCountry(s string) (country.Code, error) {
	if strings.TrimSpace(s) == "" {
		return country.None, nil
	}
	return country.Parse(s)
}
