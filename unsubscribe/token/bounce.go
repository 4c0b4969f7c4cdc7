package token

import (
	"crypto/rand"
	"encoding/base32"
	"encoding/binary"
	"strings"
	"time"
)

// A bounce token is the older TOKEN of a return path: the same keyring
// and AEAD as the unsubscribe tokens, sealed over different additional
// data (bounceAD after the key id), saying the recipient's keyed digest,
// the rep, the transaction and the time. At 29 octets of AEAD and the
// rep's length it makes local parts over the 64 octets of RFC 5321
// §4.5.3.1.1, so return paths now carry a return-path token
// (returnpath.go). OpenBounce still opens the older ones, so that the
// bounces of copies sent before keep being read; nothing seals them but
// the tests.

// DigestLen is the length of the recipient digest a bounce token holds
// (the stores' keyed digest, listdb.DigestSize).
const DigestLen = 16

// RefLen is the length of a transaction reference in bytes: the gateway's
// references are 8 base32 characters.
const RefLen = 5

// maxRep bounds the rep's identity in a token.
const maxRep = 255

// bounceAD separates bounce tokens from unsubscribe tokens.
const bounceAD = "bounce"

// bounceEnc is lower-case base32 without padding (RFC 4648 §6): a local
// part may be folded to one case by a mail server, and lower-case base32
// reads back the same however it was folded (OpenBounce lowers it first).
// The decoder ignores trailing bits, so OpenBounce also checks the token
// is the one spelling the encoder makes.
var bounceEnc = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// refEnc reads and writes the gateway's upper-case references.
var refEnc = base32.StdEncoding.WithPadding(base32.NoPadding)

// BounceClaims is what a bounce token says.
type BounceClaims struct {
	Digest [DigestLen]byte // keyed digest of the normalised recipient
	Rep    string          // the rep's AUTH identity
	Ref    string          // the transaction reference, 8 base32 characters
	Issued time.Time
}

// sealBounce returns an older bounce token saying c, or "" when c.Ref is
// not a reference or c.Rep is empty or too long.
func (kr *Keyring) sealBounce(c BounceClaims) string {
	ref, err := refEnc.DecodeString(c.Ref)
	if err != nil || refEnc.EncodeToString(ref) != c.Ref || len(ref) != RefLen || c.Rep == "" || len(c.Rep) > maxRep {
		return ""
	}
	payload := make([]byte, 0, DigestLen+binary.MaxVarintLen64+RefLen+len(c.Rep))
	payload = append(payload, c.Digest[:]...)
	payload = binary.AppendUvarint(payload, uint64(c.Issued.Unix()))
	payload = append(payload, ref...)
	payload = append(payload, c.Rep...)
	raw := make([]byte, idLen+nonceLen, idLen+nonceLen+len(payload)+tagLen)
	raw[0] = kr.current
	rand.Read(raw[idLen:])
	raw = kr.aeads[kr.current].Seal(raw, raw[idLen:], payload, bounceData(raw[0]))
	return bounceEnc.EncodeToString(raw)
}

func bounceData(id byte) []byte { return append([]byte{id}, bounceAD...) }

// OpenBounce authenticates and decrypts an older bounce token, in any case. Any
// failure is ErrInvalid.
func (kr *Keyring) OpenBounce(tok string) (BounceClaims, error) {
	if len(tok) > maxToken {
		return BounceClaims{}, ErrInvalid
	}
	tok = strings.ToLower(tok)
	raw, err := bounceEnc.DecodeString(tok)
	if err != nil || bounceEnc.EncodeToString(raw) != tok || len(raw) < idLen+nonceLen+DigestLen+1+RefLen+1+tagLen {
		return BounceClaims{}, ErrInvalid
	}
	aead := kr.aeads[raw[0]]
	if aead == nil {
		return BounceClaims{}, ErrInvalid
	}
	nonce, sealed := raw[idLen:idLen+nonceLen], raw[idLen+nonceLen:]
	p, err := aead.Open(nil, nonce, sealed, bounceData(raw[0]))
	if err != nil {
		return BounceClaims{}, ErrInvalid
	}
	var c BounceClaims
	copy(c.Digest[:], p)
	p = p[DigestLen:]
	secs, n := binary.Uvarint(p)
	if n <= 0 || len(p)-n < RefLen+1 {
		return BounceClaims{}, ErrInvalid
	}
	p = p[n:]
	c.Issued = time.Unix(int64(secs), 0).UTC()
	c.Ref = refEnc.EncodeToString(p[:RefLen])
	c.Rep = string(p[RefLen:])
	return c, nil
}
