package stamp

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"slices"
	"strings"

	"github.com/dncgate/dncgate/relay/rewrite"
)

// The rewriter marks a footed message with "Dncgate-Footer: yes" and does
// not foot a message that carries the field. A client could write that
// field itself and send without a footer, so the gateway writes a value of
// its own in place of "yes": a MAC, under a key only the gateway holds, of
// the recipient and of the body that follows the header. An incoming marker
// counts only when its MAC verifies for the recipient at hand and the body
// as it arrives; every other one is removed before the rewrite. A footed
// copy resent to someone else is footed again for them, so each recipient
// finds a link that opts out themselves.
const (
	markerLabel = "dncgate footer marker\x00"
	macLen      = 18 // bytes of HMAC-SHA256 kept: 144 bits, 24 base64 characters
)

// rewriterMark is the field as the rewriter writes it.
var rewriterMark = []byte(rewrite.MarkerHeader + ": yes\r\n")

// marks are the values of the incoming marker fields and the digest of
// the body they would vouch for.
type marks struct {
	values []string
	body   []byte // SHA-256 of the body after the header
}

// field is one header field of the top-level header: raw[start:end],
// continuation lines included.
type field struct {
	start, end int
	name       string
	value      string // unfolded, trimmed
}

// scanHeader returns the top-level header fields and where the body
// starts (RFC 5322 §2.2: fields up to the first empty line; a line that
// starts with white space continues the field before it).
func scanHeader(raw []byte) (fields []field, bodyStart int) {
	pos := 0
	for pos < len(raw) {
		eol := lineEnd(raw, pos)
		line := raw[pos:eol]
		if len(bytes.TrimRight(line, "\r\n")) == 0 {
			return fields, eol
		}
		if (line[0] == ' ' || line[0] == '\t') && len(fields) > 0 {
			f := &fields[len(fields)-1]
			f.end, f.value = eol, strings.TrimSpace(f.value+" "+strings.TrimSpace(string(line)))
		} else {
			name, value, _ := strings.Cut(string(line), ":")
			fields = append(fields, field{start: pos, end: eol, name: strings.TrimSpace(name), value: strings.TrimSpace(value)})
		}
		pos = eol
	}
	return fields, len(raw)
}

// lineEnd returns the index just past the line starting at pos.
func lineEnd(b []byte, pos int) int {
	if i := bytes.IndexByte(b[pos:], '\n'); i >= 0 {
		return pos + i + 1
	}
	return len(b)
}

// stripMarkers returns raw without its marker fields, and their values.
// A message without one, by far the usual case, is returned as it is.
func stripMarkers(raw []byte) ([]byte, marks) {
	var m marks
	isMarker := func(name string) bool { return strings.EqualFold(name, rewrite.MarkerHeader) }
	if !hasField(raw, isMarker) {
		return raw, m
	}
	out, removed, bodyStart := removeFields(raw, isMarker)
	for _, f := range removed {
		m.values = append(m.values, f.value)
	}
	sum := sha256.Sum256(raw[bodyStart:])
	m.body = sum[:]
	return out, m
}

// removeFields returns raw without the top-level header fields whose name
// drop picks, the fields it removed, and where the body starts in raw.
func removeFields(raw []byte, drop func(name string) bool) (out []byte, removed []field, bodyStart int) {
	fields, bodyStart := scanHeader(raw)
	out = make([]byte, 0, len(raw))
	pos := 0
	for _, f := range fields {
		if !drop(f.name) {
			continue
		}
		removed = append(removed, f)
		out = append(out, raw[pos:f.start]...)
		pos = f.end
	}
	return append(out, raw[pos:]...), removed, bodyStart
}

// hasField reports, without allocating, whether the top-level header has
// a field whose name is picks.
func hasField(raw []byte, pick func(name string) bool) bool {
	for pos := 0; pos < len(raw); {
		eol := lineEnd(raw, pos)
		line := raw[pos:eol]
		if len(bytes.TrimRight(line, "\r\n")) == 0 {
			return false
		}
		if i := bytes.IndexByte(line, ':'); i > 0 && line[0] != ' ' && line[0] != '\t' &&
			pick(string(bytes.TrimRight(line[:i], " \t"))) {
			return true
		}
		pos = eol
	}
	return false
}

// markerValue is the MAC that proves the gateway footed body for who.
func (s *Stamper) markerValue(who string, body []byte) string {
	mac := hmac.New(sha256.New, s.o.Key)
	mac.Write([]byte(markerLabel + who + "\x00"))
	mac.Write(body)
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil)[:macLen])
}

// verifies reports whether an incoming marker proves that the gateway
// already footed this very body for who.
func (s *Stamper) verifies(m marks, who string) bool {
	if len(m.values) == 0 {
		return false
	}
	want := []byte(s.markerValue(who, m.body))
	for _, v := range m.values {
		if hmac.Equal([]byte(v), want) {
			return true
		}
	}
	return false
}

// sealMarker replaces the rewriter's "yes" in a footed copy by the MAC of
// who and the copy's body. A copy without it (signed, or footed before) is
// returned as it is. The field is rewritten in place when the buffer has
// room, as For's has: a copy is as big as the message, and a second one
// per recipient would double what the fan-out holds at once.
func (s *Stamper) sealMarker(msg []byte, who string) []byte {
	end := bytes.Index(msg, []byte("\r\n\r\n"))
	if end < 0 {
		return msg
	}
	bodyStart := end + len("\r\n\r\n")
	at := 0
	if !bytes.HasPrefix(msg, rewriterMark) {
		if at = bytes.Index(msg[:bodyStart], append([]byte("\r\n"), rewriterMark...)); at < 0 {
			return msg
		}
		at += len("\r\n")
	}
	sum := sha256.Sum256(msg[bodyStart:])
	field := fmt.Appendf(nil, "%s: %s\r\n", rewrite.MarkerHeader, s.markerValue(who, sum[:]))
	n := len(msg)
	grow := len(field) - len(rewriterMark)
	msg = slices.Grow(msg, grow)[:n+grow]
	copy(msg[at+len(field):], msg[at+len(rewriterMark):n])
	copy(msg[at:], field)
	return msg
}
