package rewrite

import (
	"bytes"
	"encoding/asn1"
	"encoding/base64"
	"strings"
)

// protected reports whether p is signed or encrypted as a whole, so that
// changing its body would break it: PGP/MIME (RFC 3156) and S/MIME
// (RFC 8551) multipart/signed and multipart/encrypted, and opaque S/MIME.
// The media type alone proves nothing: anyone can label a message
// multipart/signed and put junk where the signature goes, to have it sent
// without the footer. Only a protection part that parses as an OpenPGP
// armoured packet or a CMS ContentInfo of the right kind counts; anything
// else is rewritten like any message. A real signature made with any key
// still counts: telling a trusted key from another is the recipient's job.
func protected(raw []byte, p *part) bool {
	switch p.media {
	case "multipart/signed":
		return signedParts(raw, p)
	case "multipart/encrypted":
		return pgpEncrypted(raw, p)
	case "application/pkcs7-mime", "application/x-pkcs7-mime":
		return isCMS(decodedBody(raw, p), oidSignedData, oidEnvelopedData, oidAuthEnvelopedData)
	}
	return false
}

// decodedBody is the part's body with its transfer encoding undone.
func decodedBody(raw []byte, p *part) []byte {
	return decodeBody(p.cte, raw[p.bodyStart:p.end])
}

// signedParts checks a multipart/signed (RFC 1847 §2.1): exactly two
// parts, the second of the type the protocol parameter names, holding a
// signature of that protocol.
func signedParts(raw []byte, p *part) bool {
	if len(p.children) != 2 {
		return false
	}
	proto := strings.ToLower(p.params["protocol"])
	sig := p.children[1]
	if sig.media != proto {
		return false
	}
	switch proto {
	case "application/pgp-signature": // RFC 3156 §5
		pkts, ok := pgpArmor(decodedBody(raw, sig), "SIGNATURE")
		return ok && pgpPacket(pkts, pgpTagSignature)
	case "application/pkcs7-signature", "application/x-pkcs7-signature": // RFC 8551 §3.5.3
		return isCMS(decodedBody(raw, sig), oidSignedData)
	}
	return false
}

// pgpEncrypted checks a PGP/MIME multipart/encrypted (RFC 3156 §4): a
// control part saying "Version: 1", then the armoured message.
func pgpEncrypted(raw []byte, p *part) bool {
	if len(p.children) != 2 || !strings.EqualFold(p.params["protocol"], "application/pgp-encrypted") {
		return false
	}
	ctl, msg := p.children[0], p.children[1]
	if ctl.media != "application/pgp-encrypted" || msg.media != "application/octet-stream" {
		return false
	}
	if !bytes.Contains(append([]byte("\n"), decodedBody(raw, ctl)...), []byte("\nVersion: 1")) {
		return false
	}
	pkts, ok := pgpArmor(decodedBody(raw, msg), "MESSAGE")
	return ok && pgpPacket(pkts, pgpTagPKESK, pgpTagSKESK, pgpTagMarker)
}

// OpenPGP packet tags (RFC 9580 §5).
const (
	pgpTagPKESK     = 1
	pgpTagSignature = 2
	pgpTagSKESK     = 3
	pgpTagMarker    = 10
)

// pgpArmor decodes the ASCII armour (RFC 9580 §6.2) of kind ("SIGNATURE",
// "MESSAGE"): the BEGIN line, armour headers up to a blank line, base64
// data, an optional "=" CRC-24 line that must match, the END line.
func pgpArmor(b []byte, kind string) ([]byte, bool) {
	begin, end := "-----BEGIN PGP "+kind+"-----", "-----END PGP "+kind+"-----"
	lines := strings.Split(strings.ReplaceAll(string(b), "\r\n", "\n"), "\n")
	i := 0
	for i < len(lines) && strings.TrimSpace(lines[i]) != begin {
		i++
	}
	for i++; i < len(lines) && strings.TrimSpace(lines[i]) != ""; i++ {
		if !strings.Contains(lines[i], ": ") { // an armour header, "Key: Value"
			break
		}
	}
	var data, sum strings.Builder
	for ; i < len(lines); i++ {
		l := strings.TrimSpace(lines[i])
		switch {
		case l == end:
			return checkArmor(data.String(), sum.String())
		case strings.HasPrefix(l, "="):
			sum.WriteString(l[1:])
		case sum.Len() == 0:
			data.WriteString(l)
		default:
			return nil, false
		}
	}
	return nil, false
}

func checkArmor(data, sum string) ([]byte, bool) {
	pkts, err := base64.StdEncoding.DecodeString(data)
	if err != nil || len(pkts) == 0 {
		return nil, false
	}
	if sum == "" {
		return pkts, true
	}
	want, err := base64.StdEncoding.DecodeString(sum)
	if err != nil || len(want) != 3 {
		return nil, false
	}
	c := crc24(pkts)
	return pkts, want[0] == byte(c>>16) && want[1] == byte(c>>8) && want[2] == byte(c)
}

// crc24 is the armour checksum (RFC 9580 §6.1.1).
func crc24(b []byte) uint32 {
	crc := uint32(0xB704CE)
	for _, c := range b {
		crc ^= uint32(c) << 16
		for range 8 {
			crc <<= 1
			if crc&0x1000000 != 0 {
				crc ^= 0x1864CFB
			}
		}
	}
	return crc & 0xFFFFFF
}

// pgpPacket reports whether b starts with a well-formed packet header
// (RFC 9580 §4.2) of one of the tags, whose body fits in b; a signature
// must also have a known version (3 to 6).
func pgpPacket(b []byte, tags ...int) bool {
	if len(b) < 2 || b[0]&0x80 == 0 {
		return false
	}
	var tag, n, hdr int
	if b[0]&0x40 != 0 { // new format
		tag = int(b[0] & 0x3f)
		switch c := int(b[1]); {
		case c < 192:
			n, hdr = c, 2
		case c < 224 && len(b) > 2:
			n, hdr = (c-192)<<8+int(b[2])+192, 3
		case c == 255 && len(b) > 5:
			n, hdr = int(b[2])<<24|int(b[3])<<16|int(b[4])<<8|int(b[5]), 6
		default: // a partial length: the first chunk must be there
			n, hdr = 1<<(c&0x1f), 2
		}
	} else {
		tag = int(b[0]>>2) & 0x0f
		switch b[0] & 3 {
		case 0:
			n, hdr = int(b[1]), 2
		case 1:
			if len(b) < 3 {
				return false
			}
			n, hdr = int(b[1])<<8|int(b[2]), 3
		default:
			return false
		}
	}
	if n <= 0 || hdr+n > len(b) {
		return false
	}
	for _, t := range tags {
		if t == tag {
			return tag != pgpTagSignature || (b[hdr] >= 3 && b[hdr] <= 6)
		}
	}
	return false
}

// CMS content types (RFC 5652 §5.1, §6.1; RFC 5083 §2).
var (
	oidSignedData        = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 2}
	oidEnvelopedData     = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 3}
	oidAuthEnvelopedData = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 1, 23}
)

// isCMS reports whether b is a CMS ContentInfo (RFC 5652 §3) of one of the
// content types: SEQUENCE { contentType OID, [0] EXPLICIT content }, the
// content a SEQUENCE starting with its INTEGER version. BER's indefinite
// lengths are accepted, as streaming signers write them.
func isCMS(b []byte, types ...asn1.ObjectIdentifier) bool {
	body, ok := berContent(b, 0x30)
	if !ok {
		return false
	}
	oidLen, ok := berElementLen(body, 0x06)
	if !ok {
		return false
	}
	var oid asn1.ObjectIdentifier
	if rest, err := asn1.Unmarshal(body[:oidLen], &oid); err != nil || len(rest) != 0 {
		return false
	}
	known := false
	for _, t := range types {
		known = known || oid.Equal(t)
	}
	if !known {
		return false
	}
	content, ok := berContent(body[oidLen:], 0xA0)
	if !ok {
		return false
	}
	inner, ok := berContent(content, 0x30)
	if !ok {
		return false
	}
	_, ok = berElementLen(inner, 0x02)
	return ok
}

// berContent checks that b starts with an element of tag and returns its
// contents: up to its length when definite, else the rest of b.
func berContent(b []byte, tag byte) ([]byte, bool) {
	hdr, n, ok := berHeader(b, tag)
	switch {
	case !ok:
		return nil, false
	case n < 0:
		return b[hdr:], tag&0x20 != 0 // only a constructed element may be indefinite
	}
	return b[hdr : hdr+n], true
}

// berElementLen returns the whole length of a definite element of tag at
// the start of b.
func berElementLen(b []byte, tag byte) (int, bool) {
	hdr, n, ok := berHeader(b, tag)
	if !ok || n < 0 {
		return 0, false
	}
	return hdr + n, true
}

// berHeader reads a one-byte tag and a length (X.690 §8.1.3): it returns
// the header's size and the content length, -1 when indefinite.
func berHeader(b []byte, tag byte) (hdr, n int, ok bool) {
	if len(b) < 2 || b[0] != tag {
		return 0, 0, false
	}
	switch l := int(b[1]); {
	case l < 0x80:
		n, hdr = l, 2
	case l == 0x80:
		return 2, -1, true
	case l <= 0x84:
		k := l & 0x7f
		if len(b) < 2+k {
			return 0, 0, false
		}
		for _, c := range b[2 : 2+k] {
			n = n<<8 | int(c)
		}
		hdr = 2 + k
	default:
		return 0, 0, false
	}
	return hdr, n, n <= len(b)-hdr
}
