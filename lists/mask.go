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
