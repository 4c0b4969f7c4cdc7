package bounce

import (
	"strings"
	"time"

	"github.com/dncgate/dncgate/ledger"
	"github.com/dncgate/dncgate/lists"
	"github.com/dncgate/dncgate/unsubscribe/token"
)

// LocalPrefix begins the local part of every return path.
const LocalPrefix = "bounces+"

// ReturnPaths makes each copy's envelope sender LocalPrefix+TOKEN@Domain.
type ReturnPaths struct {
	Keyring *token.Keyring
	Domain  string // the bounce domain, whose MX is the bounce listener
	Key     []byte // the digest key of the lists and the ledger
}

// For returns the return path of rep's copy to rcpt in transaction ref,
// or "" when rcpt has no normal form (the recipient check refuses such
// addresses before any copy is made).
func (p *ReturnPaths) For(rep, rcpt, ref string, now time.Time) string {
	if _, err := lists.NormaliseEmail(rcpt); err != nil {
		return ""
	}
	tok := p.Keyring.SealBounce(token.BounceClaims{Digest: ledger.RcptDigest(p.Key, rcpt), Rep: rep, Ref: ref, Issued: now})
	if tok == "" {
		return ""
	}
	return LocalPrefix + tok + "@" + p.Domain
}

// TokenOf returns TOKEN from LocalPrefix+TOKEN@domain; the prefix and the
// domain match in any case, and so does the token.
func TokenOf(addr, domain string) (string, bool) {
	at := strings.LastIndexByte(addr, '@')
	if at < 0 || !strings.EqualFold(addr[at+1:], domain) {
		return "", false
	}
	local := addr[:at]
	if len(local) <= len(LocalPrefix) || !strings.EqualFold(local[:len(LocalPrefix)], LocalPrefix) {
		return "", false
	}
	return local[len(LocalPrefix):], true
}
