package token

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"strings"
	"time"
)

// ErrInvalid is the one answer to any token that does not open: tampered,
// truncated, sealed by an unknown key, or not a token at all. It carries no
// detail, so a caller cannot learn which check failed.
var ErrInvalid = errors.New("token: invalid")

// ErrExpired reports an authentic token older than the allowed age. It is
// only returned once the token has been authenticated.
var ErrExpired = errors.New("token: expired")

// Layout of a decoded token: key id, GCM nonce, then the sealed payload
// and its tag.
const (
	idLen    = 1
	nonceLen = 12 // GCM standard nonce (NIST SP 800-38D §8.2.2)
	tagLen   = 16
	// minPayload is the smallest payload: a one-byte time and a one-byte
	// organisation length.
	minPayload = 2
	minRaw     = idLen + nonceLen + minPayload + tagLen
	// maxToken bounds the work spent on input from the network: far above
	// any token Seal makes for a valid address (RFC 5321 §4.5.3.1.3 caps
	// paths at 256 octets).
	maxToken = 1024
)

// enc writes URL-safe base64 without padding (RFC 4648 §5); Strict rejects
// non-zero trailing bits, so each token has exactly one spelling.
var enc = base64.RawURLEncoding.Strict()

// Claims is what a token says.
type Claims struct {
	Recipient string // normalised address, as given to Seal
	Org       string // organisation id
	Issued    time.Time
	// Lang is the language of the footer the link was sent in, so the
	// page speaks it too; "" in tokens sealed before it was added.
	Lang string
}

// maxLang bounds a language tag in a token: the footer's languages are
// two or three letters, a region subtag at most adds a few more.
const maxLang = 12

// langSep ends the recipient when a language follows. No address holds a
// NUL (RFC 5321 §4.1.2, RFC 6531 §3.3), so a token sealed before the
// language was added, which ends with the recipient, never has one.
const langSep = 0

// Seal returns a token for rcpt in org, issued at now, without a
// language. rcpt should already be normalised so that every token for one
// person names them the same way.
func (kr *Keyring) Seal(rcpt, org string, now time.Time) string {
	return kr.SealClaims(Claims{Recipient: rcpt, Org: org, Issued: now})
}

// SealClaims returns a token saying c. A Lang longer than maxLang or
// holding anything but letters and '-' is left out rather than sealed.
// Nonces are random: rotate the key well before it has sealed 2^32 tokens
// (NIST SP 800-38D §8.3).
func (kr *Keyring) SealClaims(c Claims) string {
	if !validLang(c.Lang) {
		c.Lang = ""
	}
	payload := marshal(c)
	raw := make([]byte, idLen+nonceLen, idLen+nonceLen+len(payload)+tagLen)
	raw[0] = kr.current
	rand.Read(raw[idLen:]) // never fails (crypto/rand, Go 1.24+)
	aead := kr.aeads[kr.current]
	// The key id is authenticated too, as additional data.
	raw = aead.Seal(raw, raw[idLen:], payload, raw[:idLen])
	return enc.EncodeToString(raw)
}

// Open authenticates and decrypts token. Any failure is ErrInvalid.
func (kr *Keyring) Open(token string) (Claims, error) {
	// The decoder skips CR and LF; a token has neither.
	if len(token) > maxToken || strings.ContainsAny(token, "\r\n") {
		return Claims{}, ErrInvalid
	}
	raw, err := enc.DecodeString(token)
	if err != nil || len(raw) < minRaw {
		return Claims{}, ErrInvalid
	}
	aead := kr.aeads[raw[0]]
	if aead == nil {
		return Claims{}, ErrInvalid
	}
	nonce, sealed := raw[idLen:idLen+nonceLen], raw[idLen+nonceLen:]
	payload, err := aead.Open(sealed[:0], nonce, sealed, raw[:idLen])
	if err != nil {
		return Claims{}, ErrInvalid
	}
	c, ok := unmarshal(payload)
	if !ok {
		return Claims{}, ErrInvalid
	}
	return c, nil
}

// OpenFresh is Open, and also refuses a token issued more than maxAge
// before now with ErrExpired.
func (kr *Keyring) OpenFresh(token string, now time.Time, maxAge time.Duration) (Claims, error) {
	c, err := kr.Open(token)
	if err != nil {
		return Claims{}, err
	}
	if now.Sub(c.Issued) > maxAge {
		return Claims{}, ErrExpired
	}
	return c, nil
}

// marshal lays out the payload compactly: issue time in Unix seconds and
// the organisation's length as uvarints, the organisation, then the
// recipient to the end.
func marshal(c Claims) []byte {
	b := make([]byte, 0, 2*binary.MaxVarintLen64+len(c.Org)+len(c.Recipient))
	b = binary.AppendUvarint(b, uint64(c.Issued.Unix()))
	b = binary.AppendUvarint(b, uint64(len(c.Org)))
	b = append(b, c.Org...)
	b = append(b, c.Recipient...)
	if c.Lang != "" {
		b = append(append(b, langSep), c.Lang...)
	}
	return b
}

func unmarshal(b []byte) (Claims, bool) {
	secs, n := binary.Uvarint(b)
	if n <= 0 {
		return Claims{}, false
	}
	b = b[n:]
	orgLen, n := binary.Uvarint(b)
	if n <= 0 || orgLen > uint64(len(b)-n) {
		return Claims{}, false
	}
	b = b[n:]
	c := Claims{Org: string(b[:orgLen]), Issued: time.Unix(int64(secs), 0).UTC()}
	rest := b[orgLen:]
	if i := bytes.IndexByte(rest, langSep); i >= 0 {
		c.Lang = string(rest[i+1:])
		if c.Lang == "" || !validLang(c.Lang) {
			return Claims{}, false
		}
		rest = rest[:i]
	}
	c.Recipient = string(rest)
	return c, true
}

// validLang accepts "" and short tags of ASCII letters and '-' (BCP 47
// shapes such as "fr" or "pt-BR").
func validLang(s string) bool {
	if len(s) > maxLang {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '-') {
			return false
		}
	}
	return true
}
