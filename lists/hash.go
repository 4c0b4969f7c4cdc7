package lists

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"strings"
)

// hashSpec is what a hashed kind's digest is made with.
type hashSpec struct {
	hexLen int
	newFn  func() hash.Hash
}

var hashSpecs = map[Kind]hashSpec{
	KindEmailSHA256: {hexLen: 2 * sha256.Size, newFn: sha256.New},
	KindEmailSHA1:   {hexLen: 2 * sha1.Size, newFn: sha1.New},
	KindEmailMD5:    {hexLen: 2 * md5.Size, newFn: md5.New},
}

// NormaliseHash returns the key of a hashed e-mail list entry: the hex
// digest, trimmed and lower-cased, checked for its kind's length.
func NormaliseHash(k Kind, s string) (string, error) {
	spec, ok := hashSpecs[k]
	if !ok {
		return "", fmt.Errorf("list kind %s holds no digests", k)
	}
	s = strings.TrimSpace(s)
	if len(s) != spec.hexLen {
		return "", invalid(k, fmt.Sprintf("%d characters; want %d hex digits", len(s), spec.hexLen))
	}
	for i := 0; i < len(s); i++ {
		if !isHexDigit(s[i]) {
			return "", invalid(k, fmt.Sprintf("character %d is not a hex digit", i+1))
		}
	}
	return strings.ToLower(s), nil
}

func isHexDigit(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// HashEmail normalises addr (see NormaliseEmail) and returns its hex
// digest for kind k, the key under which a hashed list would hold it.
func HashEmail(k Kind, addr string) (string, error) {
	key, err := NormaliseEmail(addr)
	if err != nil {
		return "", err
	}
	return HashNormalised(k, key)
}

// HashNormalised is HashEmail of an address already normalised: the
// recipient check has it at hand and saves normalising it again.
func HashNormalised(k Kind, key string) (string, error) {
	spec, ok := hashSpecs[k]
	if !ok {
		return "", fmt.Errorf("list kind %s holds no digests", k)
	}
	h := spec.newFn()
	io.WriteString(h, key)
	var sum [sha256.Size]byte // the largest of the three
	return hex.EncodeToString(h.Sum(sum[:0])), nil
}
