package listdb

import (
	"crypto/hmac"
	"crypto/sha256"
	"hash"
	"io"
)

// Digester keys normalised values of one kind as the stores hold them. It
// is not safe for concurrent use: an importer holds one per file, a check
// one per call (or calls Key).
type Digester struct {
	mac    hash.Hash
	prefix string
	sum    []byte
}

// NewDigester returns a digester for values of the named kind ("email",
// "phone", …) under key, the configured digest key.
func NewDigester(key []byte, kind string) *Digester {
	return &Digester{mac: hmac.New(sha256.New, key), prefix: kind + ":", sum: make([]byte, 0, sha256.Size)}
}

// Digest returns the first 16 bytes of HMAC-SHA256(key, kind ":" value),
// value being already normalised. The kind is part of the input so equal
// text on lists of different kinds never shares a key.
func (d *Digester) Digest(value string) Digest {
	d.mac.Reset()
	io.WriteString(d.mac, d.prefix)
	io.WriteString(d.mac, value)
	d.sum = d.mac.Sum(d.sum[:0])
	var out Digest
	copy(out[:], d.sum)
	return out
}

// Key is the digest of one normalised value of the named kind. Imports and
// the check at RCPT time both go through here, or nothing would match.
func Key(key []byte, kind, value string) Digest {
	return NewDigester(key, kind).Digest(value)
}
