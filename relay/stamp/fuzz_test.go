package stamp

import (
	"bytes"
	"net/textproto"
	"strings"
	"testing"

	"github.com/dncgate/dncgate/relay/rewrite"
)

// FuzzStamp: whatever the client sends, a copy that comes out carries one
// List-Unsubscribe field with the recipient's link, and at most one marker,
// never one the client wrote.
func FuzzStamp(f *testing.F) {
	for _, seed := range []string{plainMsg, altMsg, signedMsg, "Dncgate-Footer: yes\r\n" + plainMsg,
		"dncgate-footer:\r\n x\r\n\r\nbody\r\n", "Subject: x\r\n\r\n", ""} {
		f.Add([]byte(seed))
	}
	s := newStamper(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		// SMTP DATA always ends with a line break before the final dot
		// (RFC 5321 §4.1.1.4), so the relay never hands over less.
		if !bytes.HasSuffix(body, []byte("\r\n")) {
			body = append(body, "\r\n"...)
		}
		p, err := s.Prepare(body, "rep@acme.example")
		if err != nil {
			return
		}
		out, err := p.For("jean@acme.fr", "", "")
		if err != nil {
			return
		}
		end := bytes.Index(out, []byte("\r\n\r\n"))
		if end < 0 {
			t.Fatalf("no header end in the copy:\n%q", out)
		}
		h, err := textproto.NewReader(bufioReader(out[:end+4])).ReadMIMEHeader()
		if err != nil {
			return // the client's own header fields may not parse
		}
		if lu := h.Values("List-Unsubscribe"); len(lu) != 1 || !strings.HasPrefix(lu[0], "<"+testBase+"/u/") {
			t.Fatalf("List-Unsubscribe = %q", lu)
		}
		marks := h.Values(rewrite.MarkerHeader)
		if len(marks) > 1 || (len(marks) == 1 && len(marks[0]) != 24) {
			t.Fatalf("markers %q", marks)
		}
	})
}
