package rewrite

import "strings"

// isSigned reports whether the body is protected as a whole: PGP/MIME and
// S/MIME multipart/signed and multipart/encrypted (RFC 1847, RFC 3156) and
// opaque S/MIME (RFC 8551 §3.2).
func isSigned(p *part) bool {
	switch p.media {
	case "multipart/signed", "multipart/encrypted",
		"application/pkcs7-mime", "application/x-pkcs7-mime":
		return true
	}
	return false
}

// readable returns the parts the footer goes into: the body a person reads,
// never an attachment, an inline image, a calendar or an attached message.
func readable(p *part) []*part {
	if p.attached || p.badType || isSigned(p) || !knownEncoding(p.cte) {
		return nil
	}
	switch {
	case p.media == "text/plain" || p.media == "text/html":
		if !lookupCharset(charsetOf(p)).usable() {
			return nil
		}
		return []*part{p}
	case p.media == "multipart/alternative" && identityEncoding(p.cte):
		// Every alternative says the same thing (RFC 2046 §5.1.4): the
		// footer goes into each of them, whichever the reader shows.
		var out []*part
		for _, c := range p.children {
			out = append(out, readable(c)...)
		}
		return out
	case strings.HasPrefix(p.media, "multipart/") && !identityEncoding(p.cte):
		// RFC 2045 §6.4 forbids encoding a multipart; readers disagree on
		// what such a body holds, so none of it is rewritten.
		return nil
	case strings.HasPrefix(p.media, "multipart/"):
		// mixed, related and the rest: the first part that reads as a
		// body; the ones after it are attachments or inline objects.
		for _, c := range p.children {
			if r := readable(c); len(r) > 0 {
				return r
			}
		}
	}
	return nil
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
