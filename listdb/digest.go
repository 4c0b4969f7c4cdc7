package listdb

import (
	"crypto/hmac"
	"crypto/sha256"
	"hash"
	"io"
	"sync"
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

// Keyer computes the same digests as Key for any kind. It is safe for
// concurrent use and reuses its hash states: the recipient check keys
// several values for every recipient, and a new HMAC each time would be
// most of its allocations.
type Keyer struct{ pool sync.Pool }

// NewKeyer returns a Keyer under key, the configured digest key.
func NewKeyer(key []byte) *Keyer {
	k := &Keyer{}
	k.pool.New = func() any { return hmac.New(sha256.New, key) }
	return k
}

// Key is Key(key, kind, value).
func (k *Keyer) Key(kind, value string) Digest {
	mac := k.pool.Get().(hash.Hash)
	mac.Reset()
	io.WriteString(mac, kind)
	io.WriteString(mac, ":")
	io.WriteString(mac, value)
	var sum [sha256.Size]byte
	var out Digest
	copy(out[:], mac.Sum(sum[:0]))
	k.pool.Put(mac)
	return out
}
