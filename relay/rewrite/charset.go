package rewrite

import (
	"bytes"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/htmlindex"
	"golang.org/x/text/encoding/ianaindex"
)

// csKind sorts charsets by how the footer can be added to text in them.
type csKind int

const (
	csUnknown csKind = iota // no decoder: the part is left alone
	csASCII                 // us-ascii: any UTF-8 text is a superset
	csUTF8
	csSuperset // ASCII-compatible with an encoder: ISO-8859-x, windows-125x, Shift_JIS, ...
	csWide     // decodable but not ASCII-compatible (UTF-16, EBCDIC): converted to UTF-8 at once
)

// charsetInfo is a part's charset, resolved once.
type charsetInfo struct {
	kind csKind
	enc  encoding.Encoding // nil for csASCII, csUTF8 and csUnknown
}

// usable reports whether text in this charset can be decoded.
func (c charsetInfo) usable() bool { return c.kind != csUnknown }

// asciiProbe holds every character a footer block uses around the caller's
// text: a charset that encodes it unchanged is ASCII-compatible.
var asciiProbe = func() []byte {
	b := []byte("\t\r\n")
	for c := byte(' '); c < 0x7f; c++ {
		b = append(b, c)
	}
	return b
}()

// lookupCharset resolves a lower-case charset label the way mail readers
// do: the IANA registry first (so iso-8859-1 stays ISO-8859-1, RFC 2046
// §4.1.2), then the WHATWG labels for names clients use but IANA lacks
// (cp1252, gb2312).
func lookupCharset(label string) charsetInfo {
	switch label {
	case "us-ascii", "ascii", "ansi_x3.4-1968", "iso646-us", "us":
		return charsetInfo{kind: csASCII}
	case "utf-8", "utf8":
		return charsetInfo{kind: csUTF8}
	}
	enc, err := ianaindex.MIME.Encoding(label)
	if enc == nil || err != nil {
		enc, err = htmlindex.Get(label)
	}
	if enc == nil || err != nil {
		return charsetInfo{}
	}
	if out, err := enc.NewEncoder().Bytes(asciiProbe); err != nil || !bytes.Equal(out, asciiProbe) {
		return charsetInfo{kind: csWide, enc: enc}
	}
	return charsetInfo{kind: csSuperset, enc: enc}
}

// toUTF8 decodes text in this charset. us-ascii text holding 8-bit bytes
// is taken as UTF-8 when it is valid, otherwise as windows-1252, the usual
// meaning of such mislabelled mail.
func (c charsetInfo) toUTF8(b []byte) []byte {
	switch c.kind {
	case csUTF8:
		return b
	case csASCII:
		if utf8.Valid(b) {
			return b
		}
		c.enc = charmap.Windows1252
	}
	out, err := c.enc.NewDecoder().Bytes(b)
	if err != nil {
		// charmap and CJK decoders replace bad input rather than fail;
		// should one fail, keep the bytes over losing the text.
		return b
	}
	return out
}

// encodeText encodes UTF-8 text in this charset; ok is false when some
// character has no representation in it.
func (c charsetInfo) encodeText(s []byte) (out []byte, ok bool) {
	switch c.kind {
	case csUTF8:
		return s, true
	case csASCII:
		return s, isASCII(s)
	case csSuperset:
		out, err := c.enc.NewEncoder().Bytes(s)
		return out, err == nil
	}
	return nil, false
}

// encodeHTML encodes an HTML fragment in this charset, writing characters
// it lacks as numeric character references, which mean the same in any
// charset (HTML 5 §13.1.4), so HTML never needs converting.
func (c charsetInfo) encodeHTML(s []byte) []byte {
	switch c.kind {
	case csUTF8:
		return s
	case csSuperset:
		out, err := encoding.HTMLEscapeUnsupported(c.enc.NewEncoder()).Bytes(s)
		if err == nil {
			return out
		}
	}
	return escapeNonASCII(s)
}

// escapeNonASCII writes every non-ASCII character as &#N;.
func escapeNonASCII(s []byte) []byte {
	if isASCII(s) {
		return s
	}
	var b strings.Builder
	for _, r := range string(s) {
		if r < utf8.RuneSelf {
			b.WriteRune(r)
			continue
		}
		b.WriteString("&#")
		b.WriteString(strconv.Itoa(int(r)))
		b.WriteByte(';')
	}
	return []byte(b.String())
}

func isASCII(s []byte) bool {
	for _, c := range s {
		if c >= utf8.RuneSelf {
			return false
		}
	}
	return true
}
