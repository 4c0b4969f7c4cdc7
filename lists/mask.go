package lists

import (
	"strings"
	"unicode/utf8"
)

// MaskEmail shows an address as j***@acme.fr, the form logs and pages use:
// enough for its owner or a manager to recognise it, not enough to write
// to it.
func MaskEmail(addr string) string {
	at := strings.LastIndexByte(addr, '@')
	if at <= 0 {
		return "***"
	}
	r, size := utf8.DecodeRuneInString(addr)
	if r == utf8.RuneError {
		size = 1
	}
	return addr[:size] + "***" + addr[at:]
}

// phoneShown is how many digits of a number MaskPhone shows at most: the
// country code and the first digits of the national number.
const phoneShown = 5

// MaskPhone shows a number in E.164 as +3247*******: its first digits,
// never more than half of them, the rest hidden.
func MaskPhone(e164 string) string {
	digits := strings.TrimPrefix(e164, "+")
	show := min(phoneShown, len(digits)/2)
	return e164[:len(e164)-len(digits)] + digits[:show] + strings.Repeat("*", len(digits)-show)
}

// hashShown is how many hex characters Mask shows of a hashed address.
const hashShown = 8

// Mask shows a normalised value of kind k as records and pages may: an
// address as MaskEmail does, a number as MaskPhone does, a hex digest of
// an address by its first characters. A domain is shown whole: it names
// a company or a mail service, which is what its list is about.
func Mask(k Kind, value string) string {
	switch {
	case k == KindEmail:
		return MaskEmail(value)
	case k == KindPhone:
		return MaskPhone(value)
	case k.Hashed():
		return value[:min(hashShown, len(value))] + "…"
	}
	return value
}

// MaskEmails masks every address in a text (a reply line, an upstream
// error) as MaskEmail does: a word holding an '@' between other characters,
// words ending at spaces, angle brackets and punctuation, and a quoted
// local part whole.
func MaskEmails(s string) string {
	if !strings.Contains(s, "@") {
		return s
	}
	var b strings.Builder
	for {
		at := strings.IndexByte(s, '@')
		if at < 0 {
			b.WriteString(s)
			return b.String()
		}
		start := strings.LastIndexAny(s[:at], addrStops) + 1
		if at > 0 && s[at-1] == '"' { // a quoted local part, spaces and all
			if q := strings.LastIndexByte(s[:at-1], '"'); q >= 0 {
				start = q
			}
		}
		end := len(s)
		if i := strings.IndexAny(s[at+1:], addrStops); i >= 0 {
			end = at + 1 + i
		}
		b.WriteString(s[:start])
		if start == at || end == at+1 {
			b.WriteString(s[start:end]) // a lone '@' is no address
		} else {
			b.WriteString(MaskEmail(s[start:end]))
		}
		s = s[end:]
	}
}

// addrStops end a word that may be an address.
const addrStops = " \t\r\n<>()[],;:\"'"
