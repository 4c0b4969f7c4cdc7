package footer

import (
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// funcs are the functions the templates may call.
var funcs = map[string]any{
	// de writes the French preposition "de" before a value: "d'" before a
	// vowel ("pour le compte d'Acme", "auprès d'annuaires"), "de " before
	// anything else. A mute h is not elided: whether an h is mute depends
	// on the word ("d'Hermès" but "de Hachette"), which a name does not say.
	"de": elideDe,
}

func elideDe(s string) string {
	r, _ := utf8.DecodeRuneInString(s)
	if strings.ContainsRune("aeiouyàâäéèêëîïôöûùüÿæœ", unicode.ToLower(r)) {
		return "d'" + s
	}
	return "de " + s
}

// retentionUnits are, per language, the words for one and several years,
// months and days.
var retentionUnits = map[string][6]string{
	"en": {"year", "years", "month", "months", "day", "days"},
	"fr": {"an", "ans", "mois", "mois", "jour", "jours"},
	"nl": {"jaar", "jaar", "maand", "maanden", "dag", "dagen"},
	"de": {"Jahr", "Jahre", "Monat", "Monate", "Tag", "Tage"},
	"es": {"año", "años", "mes", "meses", "día", "días"},
	"it": {"anno", "anni", "mese", "mesi", "giorno", "giorni"},
}

// retentionText writes a retention in whole years, else months, else
// days, in the footer's language (English for a language it has no words
// for). A year is 365 days and a month 30, rounded down: 1096 days, the
// default, is "3 years".
func retentionText(tag string, d time.Duration) string {
	if d <= 0 {
		return ""
	}
	primary, _, _ := strings.Cut(tag, "-")
	u, ok := retentionUnits[primary]
	if !ok {
		u = retentionUnits["en"]
	}
	days := int(d / (24 * time.Hour))
	n, one, many := days, u[4], u[5]
	switch {
	case days >= 365:
		n, one, many = days/365, u[0], u[1]
	case days >= 30:
		n, one, many = days/30, u[2], u[3]
	}
	if n == 1 {
		return fmt.Sprintf("1 %s", one)
	}
	return fmt.Sprintf("%d %s", n, many)
}
