package ledger

import (
	"strings"

	"github.com/dncgate/dncgate/listdb"
	"github.com/dncgate/dncgate/lists"
)

// RcptDigest is a recipient's key in the ledger under key, the store's
// digest key: the keyed digest of the normalised address, as on the
// opt-out list, so a search by address finds what the gateway recorded.
// An address with no normalised form is keyed by its lower-cased
// spelling (the check refused it; it still gets a record).
func RcptDigest(key []byte, addr string) Digest {
	return listdb.Key(key, lists.KindEmail.String(), rcptNorm(addr))
}

// RcptDigester computes RcptDigest under one key, reusing its hash
// states: the relay keys every recipient it records.
type RcptDigester struct{ k *listdb.Keyer }

// NewRcptDigester returns a RcptDigester under key.
func NewRcptDigester(key []byte) *RcptDigester { return &RcptDigester{listdb.NewKeyer(key)} }

// Digest is RcptDigest(key, addr).
func (d *RcptDigester) Digest(addr string) Digest {
	return d.k.Key(lists.KindEmail.String(), rcptNorm(addr))
}

// rcptNorm is the spelling of addr a recipient's digest is made of.
func rcptNorm(addr string) string {
	norm, err := lists.NormaliseEmail(addr)
	if err != nil {
		return strings.ToLower(strings.TrimSpace(addr))
	}
	return norm
}
