package lists

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Address length limits from RFC 5321 §4.5.3.1.1 (local part) and
// §4.5.3.1.3 (a path of 256 octets, less the angle brackets).
const (
	maxLocalPart = 64
	maxAddress   = 254
)

// gmailDomains are the domains where Google ignores dots in the local
// part, and the name they are matched under.
var gmailDomains = map[string]bool{"gmail.com": true, "googlemail.com": true}

const gmailDomain = "gmail.com"

// NormaliseEmail returns the key of an e-mail address: trimmed, domain in
// lower-case ASCII (IDNA) form, local part lower-cased (RFC 5321 §2.4
// lets the receiving host treat it as case-sensitive, but no mailbox
// provider prospects write to does), a "+tag" subaddress removed, and for
// Gmail the dots of the local part removed and googlemail.com read as
// gmail.com. What is not a plain address is an error, never a guess.
func NormaliseEmail(s string) (string, error) {
	s = strings.TrimSpace(s)
	local, domain, reason := splitAddress(s)
	if reason == "" {
		reason = localPartProblem(local)
	}
	if reason != "" {
		return "", invalid(KindEmail, reason)
	}
	a, reason := asciiDomain(domain)
	if reason != "" {
		return "", invalid(KindEmail, reason)
	}
	local, d := canonicalLocal(strings.ToLower(local), a), mailDomain(a)
	// Lengths are checked on the key: lower-casing may lengthen a UTF-8
	// local part and removing a tag shortens it.
	switch {
	case len(local) > maxLocalPart:
		return "", invalid(KindEmail, "local part longer than 64 octets")
	case len(local)+1+len(d) > maxAddress:
		return "", invalid(KindEmail, "address longer than 254 characters")
	}
	return local + "@" + d, nil
}

// NormaliseEmailDomain returns domain as NormaliseEmail writes it after
// the '@': lower-case ASCII (IDNA), without a trailing dot, and
// googlemail.com as gmail.com. It serves keys that stand for every
// address of a domain, such as a frequency cap's.
func NormaliseEmailDomain(domain string) (string, error) {
	a, reason := asciiDomain(strings.TrimSpace(domain))
	if reason != "" {
		return "", invalid(KindEmail, reason)
	}
	return mailDomain(a), nil
}

// mailDomain reads googlemail.com as gmail.com: one mailbox.
func mailDomain(ascii string) string {
	if gmailDomains[ascii] {
		return gmailDomain
	}
	return ascii
}

// splitAddress splits at the last '@': a local part may not hold an
// unquoted '@', and quoted local parts are refused, so this is the only
// possible split.
func splitAddress(s string) (local, domain, reason string) {
	switch {
	case s == "":
		return "", "", "empty address"
	case !utf8.ValidString(s):
		return "", "", "not valid UTF-8"
	case strings.ContainsAny(s, "<>"):
		return "", "", "angle brackets or a display name; give the bare address"
	}
	at := strings.LastIndexByte(s, '@')
	switch {
	case at < 0:
		return "", "", "no @"
	case at == 0:
		return "", "", "nothing before @"
	case at == len(s)-1:
		return "", "", "nothing after @"
	}
	return s[:at], s[at+1:], ""
}

// localPartProblem checks a dot-atom local part (RFC 5322 §3.2.3, with
// the UTF-8 of RFC 6531 §3.3) and returns why it is not one.
func localPartProblem(local string) string {
	if strings.HasPrefix(local, `"`) {
		return "quoted local part not supported"
	}
	if strings.HasPrefix(local, ".") || strings.HasSuffix(local, ".") {
		return "local part starts or ends with a dot"
	}
	if strings.Contains(local, "..") {
		return "two dots in a row in the local part"
	}
	for _, r := range local {
		if reason := localRuneProblem(r); reason != "" {
			return reason
		}
	}
	return ""
}

// atextSpecials are the printable ASCII characters other than letters and
// digits that RFC 5322 §3.2.3 allows in an atom, plus the dot separator.
const atextSpecials = "!#$%&'*+-/=?^_`{|}~."

func localRuneProblem(r rune) string {
	switch {
	case r == '@':
		return "more than one @"
	case unicode.IsSpace(r):
		return "space in the address"
	case unicode.IsControl(r) || unicode.Is(unicode.Cf, r):
		return "control character in the address"
	case r < utf8.RuneSelf && !isASCIIAlnum(byte(r)) && !strings.ContainsRune(atextSpecials, r):
		return "character " + string(r) + " not allowed in the local part"
	}
	return ""
}

func isASCIIAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// canonicalLocal removes Gmail's ignored dots, then a "+tag" subaddress
// (RFC 5233 §1) unless what would be left is not a local part ("+tag"
// alone, "a.+tag").
func canonicalLocal(local, domain string) string {
	if gmailDomains[domain] {
		local = strings.ReplaceAll(local, ".", "")
	}
	if plus := strings.IndexByte(local, '+'); plus > 0 && local[plus-1] != '.' {
		local = local[:plus]
	}
	return local
}
