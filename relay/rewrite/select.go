package rewrite

import "strings"

// selection finds the bodies the footer goes into.
type selection struct {
	raw []byte
	// shadowed is set when an alternative a reader would show rather
	// than the chosen one cannot be footed (an unknown charset or
	// encoding): the message then also gets the footer as a part of its
	// own, so that reader sees it too.
	shadowed bool
}

// readable returns the parts the footer goes into: the body a person reads,
// never an attachment, an inline image, a calendar or an attached message.
// It returns at most one text/plain and one text/html part, so a copy
// grows by at most two footers however many parts the message has.
func (s *selection) readable(p *part) []*part {
	raw := s.raw
	if p.attached || p.badType || protected(raw, p) || !knownEncoding(p.cte) {
		return nil
	}
	switch {
	case p.media == "text/plain" || p.media == "text/html":
		if !lookupCharset(charsetOf(p)).usable() {
			return nil
		}
		return []*part{p}
	case p.media == "multipart/alternative" && identityEncoding(p.cte):
		return s.bestAlternatives(p)
	case strings.HasPrefix(p.media, "multipart/") && !identityEncoding(p.cte):
		// RFC 2045 §6.4 forbids encoding a multipart; readers disagree on
		// what such a body holds, so none of it is rewritten.
		return nil
	case strings.HasPrefix(p.media, "multipart/"):
		// mixed, related and the rest: the first part that reads as a
		// body; the ones after it are attachments or inline objects.
		for _, c := range p.children {
			if r := s.readable(c); len(r) > 0 {
				return r
			}
		}
	}
	return nil
}

// bestAlternatives picks, of the alternatives that say the same thing in
// increasing order of faithfulness (RFC 2046 §5.1.4), the last readable
// text/plain and the last readable text/html: what a text-only reader and
// an HTML reader show. Footing every alternative would let a message of
// many tiny alternatives grow by a footer per part.
func (s *selection) bestAlternatives(p *part) []*part {
	var text, html *part
	lastText, lastHTML := -1, -1 // the last text/plain and text/html children, footable or not
	for i, c := range p.children {
		switch {
		case c.attached:
		case c.media == "text/plain":
			lastText = i
		case c.media == "text/html":
			lastHTML = i
		}
		for _, l := range s.readable(c) {
			if l.media == "text/html" {
				html = l
			} else {
				text = l
			}
		}
	}
	if shadows(p, lastText, text) || shadows(p, lastHTML, html) {
		s.shadowed = true
	}
	switch {
	case text == nil && html == nil:
		return nil
	case text == nil:
		return []*part{html}
	case html == nil:
		return []*part{text}
	case html.start < text.start: // Render edits the parts in message order
		return []*part{html, text}
	}
	return []*part{text, html}
}

// shadows reports whether the last child of its type, at index last,
// comes after the chosen body of that type, which a reader then does not
// show.
func shadows(p *part, last int, chosen *part) bool {
	return last >= 0 && (chosen == nil || p.children[last].start > chosen.start)
}

// knownEncoding reports whether the part's Content-Transfer-Encoding is one
// RFC 2045 §6.1 defines, so its body can be decoded and re-encoded.
func knownEncoding(cte string) bool {
	switch cte {
	case "", "7bit", "8bit", "binary", "quoted-printable", "base64":
		return true
	}
	return false
}

// charsetOf returns the part's charset label, us-ascii by default
// (RFC 2046 §4.1.2).
func charsetOf(p *part) string {
	if cs := p.params["charset"]; cs != "" {
		return strings.ToLower(strings.Trim(cs, `"' `))
	}
	return "us-ascii"
}

// identityEncoding reports whether cte leaves the bytes as they are.
func identityEncoding(cte string) bool {
	switch cte {
	case "", "7bit", "8bit", "binary":
		return true
	}
	return false
}
