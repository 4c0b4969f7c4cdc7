package rewrite

import (
	"bytes"
	"html"
	"mime"
	"strings"
)

// footer is a Footer laid out once per Render: line breaks made LF (each
// body then uses its own), and an HTML form derived from the text when the
// caller gave none.
type footer struct{ text, html string }

func newFooter(f Footer) footer {
	out := footer{
		text: strings.TrimRight(toLF(f.Text), "\n"),
		html: strings.TrimRight(toLF(f.HTML), "\n"),
	}
	if out.html == "" && strings.TrimSpace(out.text) != "" {
		out.html = textToHTML(out.text)
	}
	if strings.TrimSpace(out.text) == "" {
		out.text = ""
	}
	return out
}

func (f footer) empty() bool { return f.text == "" && f.html == "" }

// toLF turns CRLF and lone CR into LF.
func toLF(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\r", "\n")
}

// textToHTML shows a plain-text footer in an HTML body, escaped, with its
// line breaks kept.
func textToHTML(t string) string {
	lines := strings.Split(t, "\n")
	for i, l := range lines {
		lines[i] = html.EscapeString(l)
	}
	return "<p>" + strings.Join(lines, "<br>\n") + "</p>"
}

// textBlock lays out the text footer for this body, in UTF-8: a blank line,
// a "-- " separator unless the body already has a signature, then the
// footer's lines. In format=flowed no footer line may end in a space, or it
// would join the next one, and lines starting with a space, ">" or "From "
// are space-stuffed (RFC 3676 §4.2, §4.4); other text loses nothing by
// having trailing spaces trimmed too.
func (l *leaf) textBlock(text string) []byte {
	var b bytes.Buffer
	if l.needNL {
		b.WriteString(l.nl)
	}
	b.WriteString(l.nl)
	if !l.hasSig {
		b.WriteString("-- " + l.nl)
	}
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimRight(line, " \t")
		if l.flowed && (strings.HasPrefix(line, " ") || strings.HasPrefix(line, ">") || strings.HasPrefix(line, "From ")) {
			b.WriteByte(' ')
		}
		b.WriteString(line)
		b.WriteString(l.nl)
	}
	return b.Bytes()
}

// htmlBlock lays out the HTML footer: the end tags of what the body left
// open, the marker comment, then the fragment, each on lines of their own.
func (l *leaf) htmlBlock(h string) []byte {
	closing := strings.ReplaceAll(string(l.htmlClose), "\n", l.nl)
	return []byte(closing + HTMLMarker + l.nl + strings.ReplaceAll(h, "\n", l.nl) + l.nl)
}

// rendered is one readable body for one recipient.
type rendered struct {
	fields []fieldEdit // Content-Type and Content-Transfer-Encoding changes
	body   [][]byte    // the new body, in pieces
}

// render inserts the footer; ok is false when there is nothing to insert
// into this kind of body.
func (l *leaf) render(f footer) (r rendered, ok bool) {
	b, convert := l.plain, l.relabel
	var block []byte
	switch {
	case l.html && f.html != "":
		block = l.cs.encodeHTML(l.htmlBlock(f.html))
	case !l.html && f.text != "":
		u := l.textBlock(f.text)
		var fits bool
		if block, fits = l.cs.encodeText(u); !fits {
			// RFC 2046 §4.1.2: the label must name the bytes sent, so
			// the whole part moves to UTF-8 rather than mix charsets.
			b, block, convert = l.utf8Body(), u, true
		}
	default:
		return rendered{}, false
	}
	cte, tail := l.chooseEncoding(b, block)
	if convert {
		r.fields = append(r.fields, contentTypeUTF8(l.p))
	}
	if cte != l.cte {
		r.fields = append(r.fields, fieldEdit{name: "content-transfer-encoding",
			raw: []byte("Content-Transfer-Encoding: " + cte + "\r\n")})
	}
	r.body = [][]byte{b.prefix(cte), tail}
	return r, true
}

// chooseEncoding keeps the part's transfer encoding when the new body is
// still valid in it, and otherwise picks quoted-printable, or base64 when
// most bytes would need escaping (RFC 2045 §6.7, §6.8). It returns the
// encoding and the encoded tail of the body.
func (l *leaf) chooseEncoding(b *body, block []byte) (string, []byte) {
	switch l.cte {
	case cteQP:
		return cteQP, appendQP(nil, b.tail(cteQP, block))
	case cteBase64:
		return cteBase64, appendBase64(nil, b.tail(cteBase64, block))
	}
	if l.cte != "binary" {
		if t := b.tail(l.cte, block); l.fitsUnencoded(b, t) {
			return l.cte, t
		}
	}
	if (b.stats().escapes+scan(block).escapes)*3 > len(b.content)+len(block) {
		return cteBase64, appendBase64(nil, b.tail(cteBase64, block))
	}
	return cteQP, appendQP(nil, b.tail(cteQP, block))
}

// fitsUnencoded reports whether the body with its new tail is still a valid
// 7bit (or 8bit) body, adds no 8-bit byte to a message that had none, and
// has no new line that could read as a delimiter of an enclosing multipart
// (RFC 2046 §5.1.1).
func (l *leaf) fitsUnencoded(b *body, tail []byte) bool {
	st := b.stats()
	allow8 := l.cte == cte8bit && (st.eight || l.src.has8bit())
	if st.unsafe || (st.eight && !allow8) {
		return false
	}
	t := scan(tail)
	return !t.unsafe && (allow8 || !t.eight) && !collides(tail, l.bounds)
}

// collides reports whether a line of b starts with "--" and a boundary.
func collides(b []byte, bounds []string) bool {
	for len(b) > 0 {
		line, rest, _ := cutLine(b)
		b = rest
		if !bytes.HasPrefix(line, []byte("--")) {
			continue
		}
		for _, bd := range bounds {
			if bytes.HasPrefix(line[2:], []byte(bd)) {
				return true
			}
		}
	}
	return false
}

// contentTypeUTF8 is the part's Content-Type with charset=utf-8, other
// parameters (format, delsp) kept.
func contentTypeUTF8(p *part) fieldEdit {
	params := make(map[string]string, len(p.params)+1)
	for k, v := range p.params {
		params[k] = v
	}
	params["charset"] = "utf-8"
	v := mime.FormatMediaType(p.media, params)
	if v == "" {
		v = p.media + "; charset=utf-8"
	}
	return fieldEdit{name: "content-type", raw: foldField("Content-Type", v)}
}
