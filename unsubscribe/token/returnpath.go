package token

import (
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"strings"
	"time"
)

// A return-path token is the TOKEN of bounces+TOKEN@domain since the
// return path had to fit the 64 octets of a local part (RFC 5321
// §4.5.3.1.1). It seals nothing: it is a handle, the transaction
// reference, the first PrefixLen bytes of the recipient's keyed digest
// and the day the copy left, authenticated by a truncated HMAC-SHA256
// under a key derived from the same keyring secret as the unsubscribe
// keys (HKDF, its own info string). The rep and the full digest are read
// from the send ledger's record of the transaction, which holds both.
//
// Layout (raw): key id 1, reference 5, digest prefix 6, day 2, MAC 10 =
// 24 octets, 39 lower-case base32 characters, a 47-octet local part with
// "bounces+", whatever the rep and the reference.

// PrefixLen is how much of the recipient's digest a return-path token
// holds: enough to tell the recipients of one transaction apart.
const PrefixLen = 6

const (
	dayLen = 2
	// macLen is the truncated HMAC: 80 bits, above the 64 a forger would
	// have to guess (NIST SP 800-107 §5.3.4 allows truncation to 64).
	macLen       = 10
	handleLen    = idLen + RefLen + PrefixLen + dayLen
	returnRawLen = handleLen + macLen
	// ReturnPathLen is the length of every return-path token.
	ReturnPathLen = (returnRawLen*8 + 4) / 5
)

// macInfo separates the HMAC key from the AES key derived from the same
// secret (RFC 5869 §3.2).
const macInfo = "dncgate bounce return path v1"

// macKeyLen is the HMAC-SHA256 key length.
const macKeyLen = 32

// Handle is what a return-path token says: which copy of which
// transaction, not who sent it or to whom in full.
type Handle struct {
	Ref    string          // the transaction reference, 8 base32 characters
	Prefix [PrefixLen]byte // the first bytes of the recipient's keyed digest
	Day    time.Time       // midnight UTC of the day the copy left
}

// HandleFor returns the handle of the copy to the recipient of digest d
// in the transaction ref, sent at t.
func HandleFor(ref string, d [DigestLen]byte, t time.Time) Handle {
	h := Handle{Ref: ref, Day: t.UTC().Truncate(24 * time.Hour)}
	copy(h.Prefix[:], d[:])
	return h
}

// Matches reports whether the digest d is the one the handle's prefix
// was taken from.
func (h Handle) Matches(d [DigestLen]byte) bool {
	return hmac.Equal(h.Prefix[:], d[:PrefixLen])
}

func deriveMAC(k Key) ([]byte, error) {
	return hkdf.Key(sha256.New, k.Secret, nil, macInfo, macKeyLen)
}

// SealReturnPath returns the return-path token of h, or "" when h.Ref is
// not a reference or h.Day is outside the days a token can name (1970 to
// 2149).
func (kr *Keyring) SealReturnPath(h Handle) string {
	ref, err := refEnc.DecodeString(h.Ref)
	days := h.Day.Unix() / 86400
	if err != nil || refEnc.EncodeToString(ref) != h.Ref || len(ref) != RefLen || h.Day.Unix() < 0 || days > 0xffff {
		return ""
	}
	raw := make([]byte, 0, returnRawLen)
	raw = append(raw, kr.current)
	raw = append(raw, ref...)
	raw = append(raw, h.Prefix[:]...)
	raw = binary.BigEndian.AppendUint16(raw, uint16(days))
	raw = append(raw, kr.returnMAC(kr.current, raw)...)
	return bounceEnc.EncodeToString(raw)
}

func (kr *Keyring) returnMAC(id byte, handle []byte) []byte {
	m := hmac.New(sha256.New, kr.macs[id])
	m.Write(handle)
	return m.Sum(nil)[:macLen]
}

// OpenReturnPath authenticates a return-path token, in any case. Any
// failure (altered, truncated, another key's, not a token) is ErrInvalid.
func (kr *Keyring) OpenReturnPath(tok string) (Handle, error) {
	if len(tok) != ReturnPathLen {
		return Handle{}, ErrInvalid
	}
	tok = strings.ToLower(tok)
	raw, err := bounceEnc.DecodeString(tok)
	if err != nil || len(raw) != returnRawLen || bounceEnc.EncodeToString(raw) != tok {
		return Handle{}, ErrInvalid
	}
	if kr.macs[raw[0]] == nil || !hmac.Equal(kr.returnMAC(raw[0], raw[:handleLen]), raw[handleLen:]) {
		return Handle{}, ErrInvalid
	}
	p := raw[idLen:]
	h := Handle{Ref: refEnc.EncodeToString(p[:RefLen])}
	p = p[RefLen:]
	copy(h.Prefix[:], p)
	days := binary.BigEndian.Uint16(p[PrefixLen:])
	h.Day = time.Unix(int64(days)*86400, 0).UTC()
	return h, nil
}
