package bounce

import (
	"context"
	"errors"
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
// addresses before any copy is made). The token names the copy, not the
// rep: the listener reads the rep from the ledger's record of ref.
func (p *ReturnPaths) For(_, rcpt, ref string, now time.Time) string {
	if _, err := lists.NormaliseEmail(rcpt); err != nil {
		return ""
	}
	tok := p.Keyring.SealReturnPath(token.HandleFor(ref, ledger.RcptDigest(p.Key, rcpt), now))
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

// Copies is where the listener finds the copy a return path names: the
// send ledger (ledger.Ledger), whose record of each transaction holds the
// rep and every recipient's digest.
type Copies interface {
	Transaction(ctx context.Context, ref string) ([]ledger.Decision, error)
}

// errNoCopy: the ledger holds no copy the return path names (not yet,
// when its record still waits in the spool; no more, once expired or
// erased).
var errNoCopy = errors.New("bounce: the ledger holds no copy of this return path")

// copyOf returns what the ledger says of the copy h names: the allowed
// decision of h.Ref whose recipient digest begins with h.Prefix, made
// within two days of the midnight h.Day (the return path is made at
// DATA, the decision at RCPT, maybe either side of midnight). Two recipients of one transaction
// sharing the prefix would be ambiguous: errNoCopy rather than a guess.
func copyOf(ctx context.Context, cs Copies, h token.Handle) (token.BounceClaims, error) {
	ds, err := cs.Transaction(ctx, h.Ref)
	if err != nil {
		return token.BounceClaims{}, err
	}
	var found *ledger.Decision
	for i := range ds {
		d := &ds[i]
		if d.Verdict != ledger.Allowed || !h.Matches(d.RcptDigest) || d.At.Sub(h.Day).Abs() > 48*time.Hour {
			continue
		}
		if found != nil && found.RcptDigest != d.RcptDigest {
			return token.BounceClaims{}, errNoCopy
		}
		found = d
	}
	if found == nil {
		return token.BounceClaims{}, errNoCopy
	}
	return token.BounceClaims{Digest: found.RcptDigest, Rep: found.Rep, Ref: h.Ref, Issued: h.Day}, nil
}
