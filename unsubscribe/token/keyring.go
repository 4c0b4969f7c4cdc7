// Package token seals and opens unsubscribe tokens: the opaque part of the
// List-Unsubscribe URL and mailto address (RFC 2369, RFC 8058).
//
// A token is authenticated encryption (AES-256-GCM) of the recipient, the
// organisation and the issue time, so the link neither shows the address
// nor can be forged or altered. Its first byte names the key that sealed
// it, so keys can rotate while links already sent keep working.
package token

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// MinSecretLen is the shortest key secret accepted, in bytes: 256 bits.
const MinSecretLen = 32

// keyInfo separates the AES key derived here from any other use of the same
// secret (RFC 5869 §3.2).
const keyInfo = "dncgate unsubscribe token v1"

// aesKeyLen selects AES-256.
const aesKeyLen = 32

// Key is one secret and the id written in front of every token it seals.
type Key struct {
	ID     byte
	Secret []byte
}

// ParseKey decodes a secret given as hex or base64 (standard or URL-safe,
// with or without padding). A string that is valid hex is read as hex.
func ParseKey(id byte, s string) (Key, error) {
	s = strings.TrimSpace(s)
	secret, err := decodeSecret(s)
	if err != nil {
		return Key{}, fmt.Errorf("token: key %d: %w", id, err)
	}
	if len(secret) < MinSecretLen {
		return Key{}, fmt.Errorf("token: key %d: secret is %d bytes, want at least %d", id, len(secret), MinSecretLen)
	}
	return Key{ID: id, Secret: secret}, nil
}

func decodeSecret(s string) ([]byte, error) {
	if b, err := hex.DecodeString(s); err == nil {
		return b, nil
	}
	for _, enc := range []*base64.Encoding{
		base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding,
	} {
		if b, err := enc.DecodeString(s); err == nil {
			return b, nil
		}
	}
	return nil, errors.New("secret is neither hex nor base64")
}

// Keyring seals with its current key and opens with any of its keys.
// It is safe for concurrent use.
type Keyring struct {
	current byte
	// aeads is indexed by key id, so finding the key costs the same for
	// every id, known or not.
	aeads [256]cipher.AEAD
	// macs are the return-path HMAC keys, derived from the same secrets.
	macs [256][]byte
}

// NewKeyring builds a keyring that seals with current and still opens
// tokens sealed with any of older. Key ids must be unique.
func NewKeyring(current Key, older ...Key) (*Keyring, error) {
	kr := &Keyring{current: current.ID}
	for _, k := range append([]Key{current}, older...) {
		if kr.aeads[k.ID] != nil {
			return nil, fmt.Errorf("token: key id %d appears twice in the keyring", k.ID)
		}
		aead, err := newAEAD(k)
		if err != nil {
			return nil, err
		}
		mac, err := deriveMAC(k)
		if err != nil {
			return nil, fmt.Errorf("token: key %d: deriving the HMAC key: %w", k.ID, err)
		}
		kr.aeads[k.ID], kr.macs[k.ID] = aead, mac
	}
	return kr, nil
}

func newAEAD(k Key) (cipher.AEAD, error) {
	if len(k.Secret) < MinSecretLen {
		return nil, fmt.Errorf("token: key %d: secret is %d bytes, want at least %d", k.ID, len(k.Secret), MinSecretLen)
	}
	key, err := hkdf.Key(sha256.New, k.Secret, nil, keyInfo, aesKeyLen)
	if err != nil {
		return nil, fmt.Errorf("token: key %d: deriving the AES key: %w", k.ID, err)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("token: key %d: %w", k.ID, err)
	}
	return cipher.NewGCM(block)
}
