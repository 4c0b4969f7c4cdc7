package rewrite

import (
	"bytes"
	"encoding/base64"
)

const (
	qpLineMax     = 76  // characters per quoted-printable line (RFC 2045 §6.7 rule 5)
	b64LineBytes  = 57  // input bytes per 76-character base64 line (RFC 2045 §6.8)
	maxLineOctets = 998 // longest line allowed on the wire (RFC 5322 §2.1.1)
)

var crlf = []byte("\r\n")

// Transfer encodings (RFC 2045 §6.1), as rewrite names them.
const (
	cteQP     = "quoted-printable"
	cteBase64 = "base64"
	cte7bit   = "7bit"
	cte8bit   = "8bit"
)

// decodeBody undoes the part's transfer encoding.
func decodeBody(cte string, b []byte) []byte {
	switch cte {
	case cteQP:
		return decodeQP(b)
	case cteBase64:
		return decodeBase64(b)
	}
	return b
}

// decodeQP decodes quoted-printable leniently, as RFC 2045 §6.7 advises:
// trailing whitespace is dropped, "=" at the end of a line is a soft break,
// and an "=" not followed by two hex digits is kept as it is.
func decodeQP(b []byte) []byte {
	out, _ := decodeQPBreaks(b)
	return out
}

// qpBreak pairs the end of a hard line break in decoded content with the
// end of the same line in the encoded body.
type qpBreak struct{ dec, enc int }

// decodeQPBreaks decodes like decodeQP and also reports where each hard
// line break ends, on both sides.
func decodeQPBreaks(b []byte) ([]byte, []qpBreak) {
	out := make([]byte, 0, len(b))
	var breaks []qpBreak
	for pos := 0; pos < len(b); {
		line, rest, hard := cutLine(b[pos:])
		pos = len(b) - len(rest)
		line = bytes.TrimRight(line, " \t")
		soft := len(line) > 0 && line[len(line)-1] == '='
		if soft {
			line = line[:len(line)-1]
		}
		out = appendUnescaped(out, line)
		if hard && !soft {
			out = append(out, '\r', '\n')
			breaks = append(breaks, qpBreak{dec: len(out), enc: pos})
		}
	}
	return out, breaks
}

// cutLine splits b at its first CRLF.
func cutLine(b []byte) (line, rest []byte, found bool) {
	i := bytes.Index(b, crlf)
	if i < 0 {
		return b, nil, false
	}
	return b[:i], b[i+2:], true
}

func appendUnescaped(out, line []byte) []byte {
	for i := 0; i < len(line); i++ {
		c := line[i]
		if c == '=' && i+2 < len(line) {
			hi, ok1 := unhex(line[i+1])
			lo, ok2 := unhex(line[i+2])
			if ok1 && ok2 {
				out = append(out, hi<<4|lo)
				i += 2
				continue
			}
		}
		out = append(out, c)
	}
	return out
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	}
	return 0, false
}

// appendQP quoted-printable encodes src; CRLF pairs are line breaks, any
// other CR or LF is encoded. Encoding works line by line, so encoding a
// prefix ending in CRLF and then the rest gives the same bytes as encoding
// the whole.
func appendQP(dst, src []byte) []byte {
	for len(src) > 0 {
		line, rest, hard := cutLine(src)
		src = rest
		dst = appendQPLine(dst, line)
		if hard {
			dst = append(dst, '\r', '\n')
		}
	}
	return dst
}

const upperHex = "0123456789ABCDEF"

// appendQPLine encodes one line, with soft breaks keeping each output line
// within qpLineMax. An output line never starts with "--", so none can read
// as a multipart delimiter (RFC 2046 §5.1.1), whatever the text holds.
func appendQPLine(dst, line []byte) []byte {
	n := 0 // characters on the current output line
	for i, c := range line {
		literal := (c >= 33 && c <= 126 && c != '=') ||
			((c == ' ' || c == '\t') && i < len(line)-1) // rule 3: no trailing whitespace
		dashes := c == '-' && i+1 < len(line) && line[i+1] == '-'
		if dashes && n == 0 {
			literal = false
		}
		width := 1
		if !literal {
			width = 3
		}
		if n+width > qpLineMax-1 {
			dst = append(dst, '=', '\r', '\n')
			n = 0
			if dashes {
				literal, width = false, 3
			}
		}
		if literal {
			dst = append(dst, c)
		} else {
			dst = append(dst, '=', upperHex[c>>4], upperHex[c&0x0f])
		}
		n += width
	}
	return dst
}

// decodeBase64 decodes leniently: characters outside the alphabet (line
// breaks, stray spaces) and padding are skipped, as RFC 2045 §6.8 requires.
func decodeBase64(b []byte) []byte {
	clean := make([]byte, 0, len(b))
	for _, c := range b {
		if isBase64Char(c) {
			clean = append(clean, c)
		}
	}
	if len(clean)%4 == 1 { // a lone trailing character carries no full byte
		clean = clean[:len(clean)-1]
	}
	out, err := base64.RawStdEncoding.AppendDecode(nil, clean)
	if err != nil {
		return nil
	}
	return out
}

func isBase64Char(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '+' || c == '/'
}

// appendBase64 encodes src in lines of 76 characters, each ending in CRLF.
// Encoding a prefix whose length is a multiple of b64LineBytes and then the
// rest gives the same bytes as encoding the whole.
func appendBase64(dst, src []byte) []byte {
	for len(src) > 0 {
		n := min(b64LineBytes, len(src))
		dst = base64.StdEncoding.AppendEncode(dst, src[:n])
		dst = append(dst, '\r', '\n')
		src = src[n:]
	}
	return dst
}
