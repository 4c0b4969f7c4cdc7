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
