package lists

import (
	"errors"
	"fmt"
	"strings"
)

// ErrReroutable is what the error of Recipients.Normalise wraps for an
// address that a mail server on the way may deliver to another mailbox
// than the one checked: test it with errors.Is.
var ErrReroutable = errors.New("address a mail server may reroute")

// rerouteChars are the local-part characters that mail servers still read
// as routes: '%' the "percent hack" (user%host@relay goes to user@host,
// Postfix's allow_percent_hack, on by default) and '!' the UUCP bang path
// (host!user@relay goes to user@host, Postfix's swap_bangpath, on by
// default). RFC 5321 §2.3.11 and Appendix C leave the local part to the
// receiving host, which is exactly what lets it do this.
const rerouteChars = "%!"

// Recipients normalises the addresses mail is sent to. It is the one rule
// for what a recipient is, shared by the relay at RCPT and every check: the
// key of NormaliseEmail, and the refusal of addresses a relay could
// reroute, except at the domains named as legitimate for them. The nil
// *Recipients names none.
type Recipients struct {
	rerouteOK map[string]bool // domains in lower-case ASCII form
}

// NewRecipients returns the rule with rerouteOK, domains (Unicode or
// ASCII) whose own mail servers give '%' or '!' in a local part no routing
// meaning, so addresses there may hold them. Each names exactly that
// domain, not its subdomains.
func NewRecipients(rerouteOK []string) (*Recipients, error) {
	r := &Recipients{rerouteOK: make(map[string]bool, len(rerouteOK))}
	for _, d := range rerouteOK {
		a, reason := asciiDomain(strings.TrimSpace(d))
		if reason != "" {
			return nil, fmt.Errorf("reroute-ok domain %q: %s", d, reason)
		}
		r.rerouteOK[mailDomain(a)] = true // as NormaliseEmail writes it
	}
	return r, nil
}

// Normalise returns the key of the recipient addr (see NormaliseEmail),
// or why it may not be written to: a *ValueError, wrapping ErrReroutable
// when a server could reroute it. The characters are looked for in the
// local part as given, +tag included: "user+x%host@relay" reroutes too.
func (r *Recipients) Normalise(addr string) (string, error) {
	key, err := NormaliseEmail(addr)
	if err != nil {
		return "", err
	}
	local := strings.TrimSpace(addr)
	local = local[:strings.LastIndexByte(local, '@')]
	i := strings.IndexAny(local, rerouteChars)
	if i < 0 || r != nil && r.rerouteOK[key[strings.LastIndexByte(key, '@')+1:]] {
		return key, nil
	}
	return "", &ValueError{Kind: KindEmail, err: ErrReroutable,
		Reason: fmt.Sprintf("local part contains '%c', which a mail server may reroute", local[i])}
}
