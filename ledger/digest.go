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
	norm, err := lists.NormaliseEmail(addr)
	if err != nil {
		norm = strings.ToLower(strings.TrimSpace(addr))
	}
	return listdb.Key(key, lists.KindEmail.String(), norm)
}
