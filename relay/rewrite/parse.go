package rewrite

import (
	"bytes"
	"fmt"
	"mime"
	"strings"
)

// field is one header field as it appears in the message.
type field struct {
	name string // lower case; "" for a line that is not a field
	raw  []byte // the whole field: continuation lines and final CRLF included
}

// value returns the field body unfolded (RFC 5322 §2.2.3) and trimmed.
func (f field) value() string {
	i := bytes.IndexByte(f.raw, ':')
	if i < 0 {
		return ""
	}
	v := make([]byte, 0, len(f.raw)-i)
	for _, c := range f.raw[i+1:] {
		if c != '\r' && c != '\n' {
			v = append(v, c)
		}
	}
	return strings.TrimSpace(string(v))
}

// part is one MIME entity located in the raw message.
type part struct {
	start     int // first byte of its header
	bodyStart int // first byte of its body
	end       int // end of its body (the CRLF before the next delimiter excluded)
	fields    []field
	parent    *part

	media    string            // lower-case media type
	params   map[string]string // Content-Type parameters, names lower case
	badType  bool              // Content-Type present but unparseable
	cte      string            // lower-case Content-Transfer-Encoding, "" when absent
	attached bool              // Content-Disposition: attachment, or a file name
	boundary string            // multipart only
	children []*part
	closeAt  int // multipart: offset of the CRLF before the close delimiter; -1 without one
}

// has reports whether the part's header holds a field with that lower-case name.
func (p *part) has(name string) bool {
	for _, f := range p.fields {
		if f.name == name {
			return true
		}
	}
	return false
}

// get returns the value of the first field with that lower-case name.
func (p *part) get(name string) string {
	for _, f := range p.fields {
		if f.name == name {
			return f.value()
		}
	}
	return ""
}

// hasBareLineEnd reports whether b holds a CR or LF that is not part of a
// CRLF pair.
func hasBareLineEnd(b []byte) bool {
	crlf := bytes.Count(b, []byte("\r\n"))
	return bytes.Count(b, []byte("\n")) != crlf || bytes.Count(b, []byte("\r")) != crlf
}

// normalizeLineEnds turns every bare CR or LF into CRLF, copying only when
// there is one: the output must be safe to send (RFC 5321 §2.3.8), and the
// relay in front already refuses such messages, so the copy is rare.
func normalizeLineEnds(b []byte) []byte {
	if !hasBareLineEnd(b) {
		return b
	}
	out := make([]byte, 0, len(b)+len(b)/16)
	for i := 0; i < len(b); i++ {
		switch c := b[i]; {
		case c == '\r' && i+1 < len(b) && b[i+1] == '\n':
			out = append(out, '\r', '\n')
			i++
		case c == '\r' || c == '\n':
			out = append(out, '\r', '\n')
		default:
			out = append(out, c)
		}
	}
	return out
}

// lineEnd returns the index just past the CRLF ending the line that starts
// at i, or len(b) when the line is the last one.
func lineEnd(b []byte, i int) int {
	j := bytes.Index(b[i:], []byte("\r\n"))
	if j < 0 {
		return len(b)
	}
	return i + j + 2
}

// parseHeader reads header fields from raw[start:end] up to the blank line.
// It returns the fields and the offset of the body (after the blank line,
// or end when there is none).
func parseHeader(raw []byte, start, end int) ([]field, int) {
	var fs []field
	i := start
	for i < end {
		j := lineEnd(raw[:end], i)
		line := raw[i:j]
		if len(line) == 2 && line[0] == '\r' { // the blank line
			return fs, j
		}
		if (line[0] == ' ' || line[0] == '\t') && len(fs) > 0 {
			last := &fs[len(fs)-1]
			last.raw = raw[j-len(last.raw)-len(line) : j]
		} else {
			fs = append(fs, field{name: fieldName(line), raw: line})
		}
		i = j
	}
	return fs, end
}

// fieldName returns the lower-case name of a header line, or "" when the
// line is not a field (no colon, or characters RFC 5322 §2.2 forbids).
func fieldName(line []byte) string {
	i := bytes.IndexByte(line, ':')
	if i <= 0 {
		return ""
	}
	name := bytes.TrimRight(line[:i], " \t")
	for _, c := range name {
		if c < 33 || c > 126 {
			return ""
		}
	}
	return strings.ToLower(string(name))
}

// parseTree parses the whole message, of at most maxParts entities.
func parseTree(raw []byte, maxDepth, maxParts int) (*part, error) {
	left := maxParts
	return parsePart(raw, nil, 0, len(raw), "text/plain", maxDepth, &left)
}

// parsePart parses the entity at raw[start:end]; def is its default type
// (RFC 2045 §5.2, RFC 2046 §5.1.5 for digests). depthLeft is how many more
// multipart levels may open.
// partsLeft counts down the entities still allowed, so that a message of
// many tiny parts cannot make its tree many times its own size.
func parsePart(raw []byte, parent *part, start, end int, def string, depthLeft int, partsLeft *int) (*part, error) {
	if *partsLeft--; *partsLeft < 0 {
		return nil, fmt.Errorf("%w: another at offset %d", ErrTooManyParts, start)
	}
	p := &part{start: start, end: end, parent: parent, closeAt: -1}
	p.fields, p.bodyStart = parseHeader(raw, start, end)
	p.describe(def)
	if !strings.HasPrefix(p.media, "multipart/") {
		return p, nil
	}
	if depthLeft == 0 {
		return nil, fmt.Errorf("%w: a multipart at offset %d", ErrTooDeep, start)
	}
	childDef := "text/plain"
	if p.media == "multipart/digest" {
		childDef = "message/rfc822"
	}
	spans, closeAt := splitMultipart(raw, p.bodyStart, end, p.boundary)
	p.closeAt = closeAt
	for _, s := range spans {
		c, err := parsePart(raw, p, s[0], s[1], childDef, depthLeft-1, partsLeft)
		if err != nil {
			return nil, err
		}
		p.children = append(p.children, c)
	}
	return p, nil
}

// describe reads the MIME fields of the part's header.
func (p *part) describe(def string) {
	p.media = def
	if ct := p.get("content-type"); p.has("content-type") {
		media, params, err := mime.ParseMediaType(ct)
		switch {
		case err == nil:
			p.media, p.params = media, params
		case media != "" && err == mime.ErrInvalidMediaParameter:
			p.media = media
		default:
			p.media, p.badType = "application/octet-stream", true
		}
	}
	p.cte = strings.ToLower(p.get("content-transfer-encoding"))
	if strings.HasPrefix(p.media, "multipart/") {
		p.boundary = p.params["boundary"]
		if !validBoundary(p.boundary) {
			// Without a usable boundary the body cannot be split: keep it whole.
			p.media, p.badType = "application/octet-stream", true
		}
	}
	disp, dparams, _ := mime.ParseMediaType(p.get("content-disposition"))
	p.attached = disp == "attachment" || dparams["filename"] != "" || p.params["name"] != ""
}

// validBoundary checks RFC 2046 §5.1.1: 1 to 70 characters, not ending in
// a space.
func validBoundary(b string) bool {
	return len(b) > 0 && len(b) <= 70 && b[len(b)-1] != ' ' && !strings.ContainsAny(b, "\r\n")
}

// splitMultipart finds the body parts of a multipart body in raw[start:end]
// (RFC 2046 §5.1.1): each delimiter line is "--" boundary, optional
// whitespace, CRLF, at the start of a line; the CRLF before it belongs to
// the delimiter. It returns each part's span and the offset of the CRLF
// before the close delimiter, or -1 when the body has none.
func splitMultipart(raw []byte, start, end int, boundary string) (spans [][2]int, closeAt int) {
	dash := []byte("--" + boundary)
	partStart := -1
	for pos := start; pos < end; {
		i := bytes.Index(raw[pos:end], dash)
		if i < 0 {
			break
		}
		c := pos + i
		pos = c + 1
		if c != start && (c < start+2 || raw[c-2] != '\r' || raw[c-1] != '\n') {
			continue
		}
		kind, next := delimiterKind(raw[:end], c+len(dash))
		if kind == notDelimiter {
			continue
		}
		if partStart >= 0 {
			spans = append(spans, [2]int{partStart, max(partStart, c-2)})
		}
		if kind == closeDelimiter {
			return spans, max(start, c-2)
		}
		partStart, pos = next, next
	}
	if partStart >= 0 {
		spans = append(spans, [2]int{partStart, end})
	}
	return spans, -1
}

type delimKind int

const (
	notDelimiter delimKind = iota
	partDelimiter
	closeDelimiter
)

// delimiterKind looks at what follows "--boundary" at raw[i:]: "--" for the
// close delimiter, then optional space or tab, then CRLF or the end. It
// returns the kind and the offset of the next line.
func delimiterKind(raw []byte, i int) (delimKind, int) {
	kind := partDelimiter
	if i+1 < len(raw) && raw[i] == '-' && raw[i+1] == '-' {
		kind, i = closeDelimiter, i+2
	}
	for i < len(raw) && (raw[i] == ' ' || raw[i] == '\t') {
		i++
	}
	switch {
	case i == len(raw):
		return kind, i
	case i+1 < len(raw) && raw[i] == '\r' && raw[i+1] == '\n':
		return kind, i + 2
	}
	return notDelimiter, 0
}
