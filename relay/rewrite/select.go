package rewrite

import "strings"

// readable returns the parts the footer goes into: the body a person reads,
// never an attachment, an inline image, a calendar or an attached message.
// It returns at most one text/plain and one text/html part, so a copy
// grows by at most two footers however many parts the message has.
func readable(raw []byte, p *part) []*part {
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
		return bestAlternatives(raw, p)
	case strings.HasPrefix(p.media, "multipart/") && !identityEncoding(p.cte):
		// RFC 2045 §6.4 forbids encoding a multipart; readers disagree on
		// what such a body holds, so none of it is rewritten.
		return nil
	case strings.HasPrefix(p.media, "multipart/"):
		// mixed, related and the rest: the first part that reads as a
		// body; the ones after it are attachments or inline objects.
		for _, c := range p.children {
			if r := readable(raw, c); len(r) > 0 {
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
func bestAlternatives(raw []byte, p *part) []*part {
	var text, html *part
	for _, c := range p.children {
		for _, l := range readable(raw, c) {
			if l.media == "text/html" {
				html = l
			} else {
				text = l
			}
		}
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
