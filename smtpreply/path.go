package smtpreply

import (
	"strings"
	"unicode/utf8"
)

// maxPath bounds an address shown to the client: RFC 5321 §4.5.3.1.3
// allows a 256-octet path including the angle brackets.
const maxPath = 254

// Path writes an envelope address for a reply, "<local@domain>", as the
// client would have to write it (RFC 5321 §4.1.2): a local part that is not
// a dot-string is quoted again, since go-smtp hands over quoted local parts
// without their quotes, and the reply must not name another address.
// Control characters become '?'; a long address is cut.
func Path(addr string) string { return "<" + Mailbox(addr) + ">" }

// Mailbox is Path without the angle brackets.
func Mailbox(addr string) string {
	s := printable(Quote(addr))
	if len(s) > maxPath {
		s = s[:maxPath] + "..."
	}
	return s
}

// Quote writes addr as it goes between the angle brackets of a path (RFC
// 5321 §4.1.2): its local part quoted when it is not a dot-string. It
// changes nothing else, so that a command to another server names the
// address the client gave. The null path stays empty.
func Quote(addr string) string {
	if addr == "" {
		return ""
	}
	local, domain := addr, ""
	if i := strings.LastIndexByte(addr, '@'); i >= 0 {
		local, domain = addr[:i], addr[i:]
	}
	if isDotString(local) {
		return addr
	}
	return quote(local) + domain
}

// isDotString: atoms of atext (RFC 5322 §3.2.3, UTF-8 allowed by RFC
// 6531 §3.3) separated by single dots.
func isDotString(s string) bool {
	if s == "" || s[0] == '.' || s[len(s)-1] == '.' || strings.Contains(s, "..") {
		return false
	}
	for _, r := range s {
		if r < utf8.RuneSelf && !isAtext(byte(r)) && r != '.' {
			return false
		}
	}
	return true
}

func isAtext(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		strings.IndexByte("!#$%&'*+-/=?^_`{|}~", c) >= 0
}

// quote writes a quoted-string, escaping '"' and '\' (RFC 5321 §4.1.2).
func quote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' || s[i] == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	b.WriteByte('"')
	return b.String()
}

// printable replaces control characters and invalid UTF-8 with '?'.
func printable(s string) string {
	return strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f || r == utf8.RuneError {
			return '?'
		}
		return r
	}, s)
}
