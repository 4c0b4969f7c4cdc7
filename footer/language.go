package footer

import (
	"github.com/dncgate/dncgate/country"
	"github.com/dncgate/dncgate/footer/lang"
)

// countryLanguage maps ISO 3166-1 alpha-2 codes to the language of the
// shipped templates most recipients there read. For countries with several
// official languages it names the majority one: Belgium → Dutch (Flanders
// is about 60% of the population), Switzerland → German, Luxembourg →
// French (the usual language of business correspondence).
var countryLanguage = map[string]string{ // keyed by country.Code
	"FR": "fr", "BE": "nl", "LU": "fr", "MC": "fr",
	"DE": "de", "AT": "de", "CH": "de", "LI": "de",
	"ES": "es", "MX": "es", "AR": "es", "CO": "es", "CL": "es", "PE": "es",
	"VE": "es", "EC": "es", "UY": "es", "PY": "es", "BO": "es", "CR": "es",
	"PA": "es", "DO": "es", "GT": "es", "HN": "es", "SV": "es", "NI": "es",
	"IT": "it", "SM": "it", "VA": "it",
	"NL": "nl", "SR": "nl",
}

// LanguageFor returns the footer language for a recipient's country;
// lang.Default for any other country, or none.
func LanguageFor(cc country.Code) string {
	if lang, ok := countryLanguage[cc.String()]; ok {
		return lang
	}
	return lang.Default
}

// severalLanguages are the countries whose recipients get a footer in
// more than one language, since no one language is safe: Belgium (Dutch
// and French, its two main official languages), Switzerland (German and
// French). Its first is LanguageFor's.
var severalLanguages = map[string]string{"BE": "nl" + Separator + "fr", "CH": "de" + Separator + "fr"}

// FooterLanguages is the language, or the languages joined by "+", of a
// footer for a recipient in cc when nothing more is known of them.
func FooterLanguages(cc country.Code) string {
	if l, ok := severalLanguages[cc.String()]; ok {
		return l
	}
	return LanguageFor(cc)
}
