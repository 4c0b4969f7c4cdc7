package rewrite

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
)

// edit replaces raw[start:end] by segs.
type edit struct {
	start, end int
	segs       [][]byte
}

// Render writes the message for one recipient: the footer inserted into
// each readable body (or, when there is none, added as a part of its own),
// the set headers in place of any fields with those names, and a
// Message-ID when the message has none. Every byte of the parts it does not
// change is copied from the original. A message that is signed or Footed
// only gets its headers. The output has CRLF line endings only.
func (m *Message) Render(w io.Writer, f Footer, set []Header) error {
	hdrEdits, err := setEdits(set)
	if err != nil {
		return err
	}
	if m.messageID != "" && findEdit(hdrEdits, "message-id") < 0 {
		hdrEdits = append(hdrEdits, fieldEdit{name: "message-id", raw: foldField("Message-ID", m.messageID)})
	}
	r := renderer{m: m, hdrEdits: hdrEdits}
	if ft := newFooter(f); !m.footed && !m.signed && !ft.empty() {
		r.foot(ft)
	}
	edits := r.plan()
	if n, limit := r.size(edits), len(m.raw.b)+Allowance(f, set); n > limit {
		return fmt.Errorf("%w: %d bytes, %d allowed", ErrTooLarge, n, limit)
	}
	return r.write(w, edits)
}

// Allowance is how many bytes a copy may add to the message: the footer
// at most growthPerFooter times (a text and an HTML body may each take it,
// quoted-printable may triple a byte), the set headers, and a fixed margin
// for the other fields, the HTML end tags and an added footer part. A copy
// that would be larger is refused, so a message's copies cost at most its
// own size plus this, whatever its structure.
func Allowance(f Footer, set []Header) int {
	n := fixedAllowance + growthPerFooter*(len(f.Text)+len(f.HTML))
	for _, h := range set {
		n += len(h.Key) + len(": \r\n") + 3*len(h.Value) // a fold adds a CRLF at most before each space
	}
	return n
}

const (
	growthPerFooter = 4
	fixedAllowance  = 8 << 10
)

// renderer collects one Render's edits.
type renderer struct {
	m           *Message
	hdrEdits    []fieldEdit // top-level header changes
	dropContent bool        // the top-level Content-* fields moved into a new part
	topBody     [][]byte    // the new top-level body, when it is replaced
	edits       []edit      // changes inside the body, in order
}

// foot inserts the footer and marks the message.
func (r *renderer) foot(f footer) {
	changed := false
	var topFields []fieldEdit
	for _, l := range r.m.leaves {
		out, ok := l.render(f)
		if !ok {
			continue
		}
		changed = true
		if l.p == r.m.top {
			topFields, r.topBody = out.fields, out.body
			continue
		}
		hdr := append(appendHeader(nil, l.p.fields, out.fields, false), crlf...)
		r.edits = append(r.edits, edit{start: l.p.start, end: l.p.end, segs: append([][]byte{hdr}, out.body...)})
	}
	if a := r.m.appendix; a != nil {
		changed = true
		r.addAppendix(a, f)
	}
	if !changed {
		return
	}
	r.hdrEdits = addEdit(r.hdrEdits, markerName, foldField(MarkerHeader, markerValue))
	if !r.m.top.has("mime-version") {
		r.hdrEdits = addEdit(r.hdrEdits, "mime-version", []byte("MIME-Version: 1.0\r\n"))
	}
	r.hdrEdits = append(r.hdrEdits, topFields...)
}

// plan returns every edit of the copy, the top-level header first.
func (r *renderer) plan() []edit {
	hdr := append(appendHeader(nil, r.m.top.fields, r.hdrEdits, r.dropContent), crlf...)
	first := edit{start: 0, end: r.m.top.bodyStart, segs: [][]byte{hdr}}
	if r.topBody != nil {
		first.end = len(r.m.raw.b)
		first.segs = append(first.segs, r.topBody...)
	}
	return append([]edit{first}, r.edits...)
}

// size is the length of the copy the edits make.
func (r *renderer) size(edits []edit) int {
	n := len(r.m.raw.b)
	for _, e := range edits {
		n -= e.end - e.start
		for _, s := range e.segs {
			n += len(s)
		}
	}
	return n
}

// write streams the original with the edits applied.
func (r *renderer) write(w io.Writer, edits []edit) error {
	raw := r.m.raw.b
	pos := 0
	for _, e := range edits {
		if err := writeAll(w, raw[pos:e.start]); err != nil {
			return err
		}
		for _, s := range e.segs {
			if err := writeAll(w, s); err != nil {
				return err
			}
		}
		pos = e.end
	}
	return writeAll(w, raw[pos:])
}

func writeAll(w io.Writer, b []byte) error {
	if len(b) == 0 {
		return nil
	}
	_, err := w.Write(b)
	return err
}

// appendix is the fallback for a message with no readable body (only
// attachments, an unknown charset or encoding): the footer becomes a part
// of its own, added to the top-level multipart/mixed, or next to the whole
// original body in a new multipart/mixed.
type appendix struct {
	wrap     bool
	at       int    // where the part goes, for an existing multipart/mixed
	leadCRLF bool   // raw[at:] starts with the CRLF of the close delimiter
	boundary string // the existing or the new boundary
}

const maxBoundaryTries = 8

func newAppendix(raw []byte, top *part, rnd io.Reader) (*appendix, error) {
	if top.media == "multipart/mixed" && top.closeAt >= 0 {
		return &appendix{at: top.closeAt, boundary: top.boundary, leadCRLF: bytes.HasPrefix(raw[top.closeAt:], crlf)}, nil
	}
	for range maxBoundaryTries {
		h, err := randomHex(rnd)
		if err != nil {
			return nil, err
		}
		if b := "dncgate-" + h; !bytes.Contains(raw, []byte(b)) {
			return &appendix{wrap: true, boundary: b}, nil
		}
	}
	return nil, errors.New("no boundary absent from the message")
}

// addAppendix adds the footer part (RFC 2046 §5.1.3: mixed parts are shown
// in order, so it comes last).
func (r *renderer) addAppendix(a *appendix, f footer) {
	part := footerPart(f)
	delim := []byte("--" + a.boundary + "\r\n")
	if !a.wrap {
		if a.leadCRLF {
			delim = append([]byte("\r\n"), delim...)
		} else {
			part = append(part, crlf...)
		}
		r.edits = append(r.edits, edit{start: a.at, end: a.at, segs: [][]byte{delim, part}})
		return
	}
	top := r.m.top
	var inner []byte
	for _, fl := range top.fields {
		if strings.HasPrefix(fl.name, "content-") {
			inner = append(inner, fl.raw...)
		}
	}
	inner = append(inner, crlf...)
	r.dropContent = true
	r.hdrEdits = append(r.hdrEdits, fieldEdit{name: "content-type",
		raw: foldField("Content-Type", `multipart/mixed; boundary="`+a.boundary+`"`)})
	// The original body, with any footed alternatives inside it, becomes
	// the first part; the edits around it keep the others in order.
	end := len(r.m.raw.b)
	r.edits = append([]edit{{start: top.bodyStart, end: top.bodyStart, segs: [][]byte{delim, inner}}}, r.edits...)
	r.edits = append(r.edits, edit{start: end, end: end, segs: [][]byte{[]byte("\r\n"), delim, part,
		[]byte("\r\n--" + a.boundary + "--\r\n")}})
}

// footerPart is the footer as a part of its own: UTF-8, quoted-printable
// so it is 7-bit whatever the footer holds.
func footerPart(f footer) []byte {
	media, content := "text/plain", f.text
	if content == "" {
		media, content = "text/html", HTMLMarker+"\n"+f.html
	}
	b := []byte("Content-Type: " + media + "; charset=utf-8\r\n" +
		"Content-Transfer-Encoding: quoted-printable\r\nContent-Disposition: inline\r\n\r\n")
	text := bytes.ReplaceAll([]byte(content+"\n"), []byte("\n"), crlf)
	return appendQP(b, text)
}
