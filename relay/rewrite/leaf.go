package rewrite

import (
	"bytes"
	"sort"
	"sync"
)

// leaf is one readable body, decoded once at Parse. Rendering adds the
// footer at one offset; everything before the line holding that offset is
// encoded once and shared by every recipient's copy.
type leaf struct {
	src     *source
	p       *part
	html    bool
	bounds  []string // boundaries of the enclosing multiparts
	cs      charsetInfo
	relabel bool   // the content was converted to UTF-8 at Parse
	cte     string // the part's transfer encoding; "" when absent
	nl      string // the body's line break: CRLF, or LF inside base64 text that uses it
	flowed  bool   // text/plain; format=flowed (RFC 3676)
	needNL  bool   // text: the body does not end with a line break
	hasSig  bool   // text: the body already has a "-- " signature separator line
	// htmlClose ends what the HTML body leaves open where the footer goes
	// (see htmlPoint), so that the footer renders.
	htmlClose []byte
	plain     *body // the content in its own charset

	utf8Once sync.Once
	utf8     *body // text: the content converted to UTF-8, made on first need
}

// newLeaf decodes the part's body for rendering.
func newLeaf(src *source, p *part) *leaf {
	l := &leaf{src: src, p: p, html: p.media == "text/html", cte: p.cte, cs: lookupCharset(charsetOf(p))}
	for a := p.parent; a != nil; a = a.parent {
		l.bounds = append(l.bounds, a.boundary)
	}
	encoded := src.b[p.bodyStart:p.end]
	var content []byte
	var breaks []qpBreak
	if p.cte == cteQP {
		content, breaks = decodeQPBreaks(encoded)
	} else {
		content = decodeBody(p.cte, encoded)
	}
	if l.cs.kind == csWide {
		content, l.cs, l.relabel = l.cs.toUTF8(content), charsetInfo{kind: csUTF8}, true
		breaks = nil
	}
	l.nl = lineBreak(content)
	at := len(content)
	if l.html {
		at, l.htmlClose = htmlPoint(content)
	} else {
		l.flowed = equalFoldASCII(p.params["format"], "flowed")
		content = l.trimEnd(content)
		l.hasSig = hasSignature(content, l.nl)
		at = len(content)
	}
	l.plain = &body{content: content, at: at, encoded: encoded, breaks: breaks}
	return l
}

// trimEnd prepares a text body for appending: in format=flowed a last line
// ending in a space would flow into the footer (RFC 3676 §4.2), so its
// trailing spaces go; a body without a final line break gets one first.
func (l *leaf) trimEnd(content []byte) []byte {
	nl := []byte(l.nl)
	if l.flowed {
		c := bytes.TrimSuffix(content, nl)
		if t := bytes.TrimRight(c, " "); len(t) < len(c) {
			content = t
		}
	}
	l.needNL = len(content) > 0 && !bytes.HasSuffix(content, nl)
	return content
}

// utf8Body returns the text converted to UTF-8, for a footer the part's
// charset cannot represent.
func (l *leaf) utf8Body() *body {
	l.utf8Once.Do(func() {
		c := l.cs.toUTF8(l.plain.content)
		l.utf8 = &body{content: c, at: len(c)}
	})
	return l.utf8
}

// lineBreak returns the line break the content uses. Only a body that came
// out of base64 or quoted-printable can hold bare LFs; it keeps them, and
// its transfer encoding protects them on the wire.
func lineBreak(content []byte) string {
	if bytes.Contains(content, crlf) || !bytes.Contains(content, []byte("\n")) {
		return "\r\n"
	}
	return "\n"
}

// hasSignature reports whether a line is exactly "-- ", the signature
// separator (RFC 3676 §4.3): a second one would confuse readers that hide
// or trim signatures.
func hasSignature(content []byte, nl string) bool {
	sep := "-- " + nl
	return bytes.HasPrefix(content, []byte(sep)) || bytes.Contains(content, []byte(nl+sep)) ||
		bytes.HasSuffix(content, []byte(nl+"-- ")) || string(content) == "-- "
}

func equalFoldASCII(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// body is decoded content with an insertion offset, and what is known of it
// for choosing a transfer encoding.
type body struct {
	content []byte
	at      int
	// encoded is the part's quoted-printable body when content is its
	// decoding, and breaks maps its hard line breaks: the client's own
	// encoding of the lines before the footer can then be sent as it is.
	encoded []byte
	breaks  []qpBreak

	statsOnce           sync.Once
	st                  stats
	qpOnce, b64Once     sync.Once
	qpPrefix, b64Prefix []byte
}

// stats describes the content, scanned on first need.
func (b *body) stats() stats {
	b.statsOnce.Do(func() { b.st = scan(b.content) })
	return b.st
}

// stats says what transfer encoding some bytes need.
type stats struct {
	eight   bool // a byte above 127
	unsafe  bool // something no 7bit or 8bit body may hold
	escapes int  // bytes quoted-printable would escape
}

// scan reports whether b has 8-bit bytes, whether it holds what no 7bit or
// 8bit body may (NUL, a CR or LF outside a CRLF pair, lines over 998
// octets: RFC 2045 §2.7-2.8, RFC 5322 §2.1.1), and how many bytes
// quoted-printable would escape.
func scan(b []byte) stats {
	eight, unsafe, escapes, lineStart := false, false, 0, 0
	for i, c := range b {
		switch {
		case c >= 0x80:
			eight = true
			escapes++
		case c == '\n':
			if i-lineStart > maxLineOctets+1 || i == 0 || b[i-1] != '\r' {
				unsafe = true
			}
			lineStart = i + 1
		case c == '\r':
			if i+1 == len(b) || b[i+1] != '\n' {
				unsafe, escapes = true, escapes+1
			}
		case c == 0:
			unsafe = true
			escapes++
		case c == '=' || (c < ' ' && c != '\t'):
			escapes++
		}
	}
	if len(b)-lineStart > maxLineOctets {
		unsafe = true
	}
	return stats{eight: eight, unsafe: unsafe, escapes: escapes}
}

// split returns where the shared, encoded-once prefix ends for a transfer
// encoding: a line start for quoted-printable and the unencoded forms, a
// whole base64 line for base64.
func (b *body) split(cte string) int {
	if cte == cteBase64 {
		return b.at / b64LineBytes * b64LineBytes
	}
	i := bytes.LastIndex(b.content[:b.at], crlf)
	if i < 0 {
		return 0
	}
	return i + 2
}

// prefix returns the content before split(cte), encoded.
func (b *body) prefix(cte string) []byte {
	k := b.split(cte)
	switch cte {
	case cteQP:
		b.qpOnce.Do(func() {
			var ok bool
			if b.qpPrefix, ok = b.encodedPrefix(k); !ok {
				b.qpPrefix = appendQP(nil, b.content[:k])
			}
		})
		return b.qpPrefix
	case cteBase64:
		b.b64Once.Do(func() { b.b64Prefix = appendBase64(nil, b.content[:k]) })
		return b.b64Prefix
	}
	return b.content[:k]
}

// tail returns the content from split(cte) on with block inserted at the
// insertion offset, not yet encoded.
func (b *body) tail(cte string, block []byte) []byte {
	k := b.split(cte)
	t := make([]byte, 0, len(b.content)-k+len(block))
	t = append(t, b.content[k:b.at]...)
	t = append(t, block...)
	return append(t, b.content[b.at:]...)
}

// encodedPrefix returns the part's own encoding of content[:k] when k ends
// a hard line break of it and those lines are fit to send as they are.
func (b *body) encodedPrefix(k int) ([]byte, bool) {
	i := sort.Search(len(b.breaks), func(i int) bool { return b.breaks[i].dec >= k })
	if k == 0 || i == len(b.breaks) || b.breaks[i].dec != k {
		return nil, k == 0
	}
	enc := b.encoded[:b.breaks[i].enc]
	if st := scan(enc); st.unsafe {
		return nil, false
	}
	return enc, true
}
