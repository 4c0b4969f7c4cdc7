package rewrite

import (
	"encoding/hex"
	"fmt"
	"io"
	"strings"
)

const (
	foldAt      = 78  // preferred line length (RFC 5322 §2.1.1)
	maxWordLen  = 900 // longest unbreakable run in a set header value
	maxNameLen  = 76  // longest set header name, so name and run fit one line
	idRandBytes = 16  // randomness in a generated Message-ID or boundary
	markerName  = "dncgate-footer"
	markerValue = "yes"
)

// fieldEdit replaces every field of a name by raw (which may hold several
// fields, or none to delete them).
type fieldEdit struct {
	name string // lower case
	raw  []byte
}

// appendHeader writes fields with edits applied: each edited name's new
// fields take the place of its first occurrence, or go at the end. With
// dropContent, the Content-* fields are left out (they move into a part).
func appendHeader(dst []byte, fields []field, edits []fieldEdit, dropContent bool) []byte {
	placed := make([]bool, len(edits))
	for _, f := range fields {
		if dropContent && strings.HasPrefix(f.name, "content-") {
			continue
		}
		i := findEdit(edits, f.name)
		if i < 0 {
			dst = append(dst, f.raw...)
			continue
		}
		if !placed[i] {
			dst = append(dst, edits[i].raw...)
			placed[i] = true
		}
	}
	for i, e := range edits {
		if !placed[i] {
			dst = append(dst, e.raw...)
		}
	}
	return dst
}

func findEdit(edits []fieldEdit, name string) int {
	for i, e := range edits {
		if e.name == name && name != "" {
			return i
		}
	}
	return -1
}

// addEdit adds raw to the edit for name, creating it when needed, so that
// two set headers with one name both appear.
func addEdit(edits []fieldEdit, name string, raw []byte) []fieldEdit {
	if i := findEdit(edits, name); i >= 0 {
		edits[i].raw = append(append([]byte(nil), edits[i].raw...), raw...)
		return edits
	}
	return append(edits, fieldEdit{name: name, raw: raw})
}

// foldField formats "Name: value" CRLF, folded before white space so lines
// stay near foldAt characters (RFC 5322 §2.2.3, §3.2.2). A run without
// white space is never broken.
func foldField(name, value string) []byte {
	out := []byte(name + ":")
	n := len(out)
	rest := " " + value
	for len(rest) > 0 {
		j := strings.IndexAny(rest[1:], " \t")
		chunk := rest
		if j >= 0 {
			chunk = rest[:j+1]
		}
		if n+len(chunk) > foldAt && n > len(name)+1 && strings.TrimSpace(chunk) != "" {
			out = append(out, '\r', '\n')
			n = 0
		}
		out = append(out, chunk...)
		n += len(chunk)
		rest = rest[len(chunk):]
	}
	return append(out, '\r', '\n')
}

// setEdits checks the headers the caller sets and formats them. A name or
// value that could break the header (a line break, a control character,
// an unbreakable run too long for one line) is an error, as are the MIME
// fields, which belong to the body's structure.
func setEdits(set []Header) ([]fieldEdit, error) {
	var edits []fieldEdit
	for _, h := range set {
		name := strings.ToLower(h.Key)
		if err := checkHeader(h, name); err != nil {
			return nil, err
		}
		edits = addEdit(edits, name, foldField(h.Key, strings.TrimSpace(h.Value)))
	}
	return edits, nil
}

func checkHeader(h Header, name string) error {
	if h.Key == "" || len(h.Key) > maxNameLen || fieldName([]byte(h.Key+":")) != name {
		return fmt.Errorf("rewrite: header name %q: not a valid field name (RFC 5322 §2.2)", h.Key)
	}
	if strings.HasPrefix(name, "content-") || name == "mime-version" || name == markerName {
		return fmt.Errorf("rewrite: header %s: set by the rewriter itself, not by the caller", h.Key)
	}
	for i := 0; i < len(h.Value); i++ {
		if c := h.Value[i]; (c < ' ' && c != '\t') || c > '~' {
			return fmt.Errorf("rewrite: header %s: byte %#x at offset %d; only printable ASCII is allowed", h.Key, c, i)
		}
	}
	for _, w := range strings.Fields(h.Value) {
		if len(w) > maxWordLen {
			return fmt.Errorf("rewrite: header %s: a %d-byte run without spaces cannot be folded under 998 octets", h.Key, len(w))
		}
	}
	return nil
}

// newMessageID makes a Message-ID (RFC 5322 §3.6.4) from random bytes and
// the domain of the From address, as mail clients do; the gateway acts as
// the submission agent that may add one (RFC 6409 §8.3).
func newMessageID(r io.Reader, top *part) (string, error) {
	id, err := randomHex(r)
	if err != nil {
		return "", err
	}
	return "<" + id + "@" + fromDomain(top.get("from")) + ">", nil
}

func randomHex(r io.Reader) (string, error) {
	b := make([]byte, idRandBytes)
	if _, err := io.ReadFull(r, b); err != nil {
		return "", fmt.Errorf("rewrite: random bytes: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// fromDomain returns the domain of the From address when it is a plain
// ASCII host name, or "localhost".
func fromDomain(from string) string {
	addr := from
	if i := strings.LastIndexByte(addr, '<'); i >= 0 {
		addr = addr[i+1:]
		if j := strings.IndexByte(addr, '>'); j >= 0 {
			addr = addr[:j]
		}
	}
	i := strings.LastIndexByte(addr, '@')
	if i < 0 {
		return "localhost"
	}
	d := strings.ToLower(strings.TrimSpace(addr[i+1:]))
	if d == "" || strings.Trim(d, "abcdefghijklmnopqrstuvwxyz0123456789.-") != "" {
		return "localhost"
	}
	return d
}
