package relay

import (
	"crypto/rand"
	"encoding/base32"
)

// refEncoding is upper-case base32 without padding: easy to read aloud and
// to type, with no 0/O or 1/I pairs to confuse.
var refEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// newRef returns a transaction reference: 8 characters from 40 random bits,
// enough that two transactions in the log retention period practically
// never share one.
func newRef() string {
	var b [5]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return refEncoding.EncodeToString(b[:])
}
