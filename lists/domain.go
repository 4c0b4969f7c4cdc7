package lists

import (
	"strings"

	"golang.org/x/net/idna"
	"golang.org/x/net/publicsuffix"
)

// maxDomainLength is the longest domain name in presentation form without
// the trailing dot (RFC 1035 §2.3.4: 255 octets on the wire).
const maxDomainLength = 253

const domainTooLong = "domain longer than 253 characters"

// idnaProfile converts domains to their ASCII form for lookup (RFC 5891
// §5, UTS #46 non-transitional): it lower-cases, maps compatibility forms,
// checks the bidi rule, hyphen positions, joiners and label lengths, and
// allows letters, digits and hyphens only in ASCII labels.
var idnaProfile = idna.New(
	idna.MapForLookup(),
	idna.BidiRule(),
	idna.CheckHyphens(true),
	idna.CheckJoiners(true),
	idna.VerifyDNSLength(true),
	idna.Transitional(false),
)

// NormaliseDomain returns the key of a domain list entry: lower-case ASCII
// (IDNA) form without a trailing dot. The entry must be a registrable
// domain or below it, since an entry covers its subdomains and a lookup
// never goes above the registrable domain (see DomainAndParents).
func NormaliseDomain(s string) (string, error) {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "*.") {
		return "", invalid(KindDomain, "wildcard: an entry already covers its subdomains")
	}
	d, reason := asciiDomain(s)
	if reason == "" {
		if suffix, _ := publicsuffix.PublicSuffix(d); suffix == d {
			reason = "a public suffix such as a TLD; an entry must be a registrable domain or below"
		}
	}
	if reason != "" {
		return "", invalid(KindDomain, reason)
	}
	return d, nil
}

// asciiDomain converts a host name to its lower-case ASCII form. It
// returns a short reason instead when d is not a usable domain name.
func asciiDomain(d string) (string, string) {
	d = strings.TrimSuffix(d, ".")
	switch {
	case d == "":
		return "", "empty domain"
	case strings.Contains(d, "://"):
		return "", "a URL, not a domain"
	case strings.HasPrefix(d, "["):
		return "", "an address literal, not a domain"
	case strings.HasPrefix(d, ".") || strings.Contains(d, ".."):
		return "", "domain has an empty label (a dot too many)"
	case len(d) > maxDomainLength:
		return "", domainTooLong
	}
	a, err := idnaProfile.ToASCII(d)
	if err != nil {
		return "", "domain: " + strings.TrimPrefix(err.Error(), "idna: ")
	}
	return a, domainShapeProblem(a)
}

func domainShapeProblem(a string) string {
	if len(a) > maxDomainLength {
		return domainTooLong
	}
	dot := strings.LastIndexByte(a, '.')
	if dot < 0 {
		return "domain has a single label; want a name such as example.com"
	}
	if allDigits(a[dot+1:]) {
		return "an IP address, not a domain"
	}
	return ""
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// DomainAndParents returns the keys a lookup checks for the normalised
// domain d so that an entry acme.fr also covers sales.acme.fr: d itself,
// then each parent up to the registrable domain (public suffix plus one
// label, from the Public Suffix List). It never returns a public suffix
// such as fr or co.uk, except d itself when d is one.
func DomainAndParents(d string) []string {
	top, err := publicsuffix.EffectiveTLDPlusOne(d)
	if err != nil || !strings.HasSuffix(d, top) {
		return []string{d}
	}
	out := []string{d}
	for s := d; s != top; {
		dot := strings.IndexByte(s, '.')
		if dot < 0 {
			break
		}
		s = s[dot+1:]
		out = append(out, s)
	}
	return out
}
