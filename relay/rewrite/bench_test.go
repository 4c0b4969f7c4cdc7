package rewrite

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// benchSizes are the message sizes the issue asks figures for; the large
// ones are mostly a base64 attachment, as real large mail is.
var benchSizes = []struct {
	name       string
	htmlBytes  int
	attachment int
}{
	{"4KB", 2800, 0},
	{"100KB", 20 << 10, 56 << 10},
	{"10MB", 8 << 10, 7600 << 10},
}

// benchMessage builds a multipart/mixed message: an alternative of
// quoted-printable text and HTML, then a base64 attachment when asked.
func benchMessage(htmlBytes, attachment int) []byte {
	rnd := rand.New(rand.NewChaCha8([32]byte{'b'}))
	para := "<p>Bonjour, voici notre proposition d=C3=A9taill=C3=A9e pour votre =C3=A9quipe.</p>\r\n"
	var b strings.Builder
	b.WriteString("From: Rep <rep@acme.example>\r\nTo: p@prospect.example\r\nSubject: Offre\r\n" +
		"Message-ID: <bench@acme.example>\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/mixed; boundary=\"mix\"\r\n\r\n--mix\r\n" +
		"Content-Type: multipart/alternative; boundary=\"alt\"\r\n\r\n--alt\r\n" +
		"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n")
	b.WriteString(strings.Repeat("Bonjour, voici notre proposition d=C3=A9taill=C3=A9e.\r\n", htmlBytes/200+1))
	b.WriteString("\r\n--alt\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n<html><body>\r\n")
	b.WriteString(strings.Repeat(para, htmlBytes/len(para)+1))
	b.WriteString("</body></html>\r\n\r\n--alt--\r\n")
	if attachment > 0 {
		data := make([]byte, attachment)
		for i := range data {
			data[i] = byte(rnd.Uint32())
		}
		b.WriteString("\r\n--mix\r\nContent-Type: application/pdf; name=\"offre.pdf\"\r\n" +
			"Content-Disposition: attachment; filename=\"offre.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\n")
		b.Write(appendBase64(nil, data))
	}
	b.WriteString("\r\n--mix--\r\n")
	return []byte(b.String())
}

var benchFooter = Footer{
	Text: footerFR.Text,
	HTML: footerFR.HTML,
}

// BenchmarkRewrite measures one message for one recipient: Parse, then
// Render into a buffer the relay would hand to the upstream.
func BenchmarkRewrite(b *testing.B) {
	for _, s := range benchSizes {
		raw := benchMessage(s.htmlBytes, s.attachment)
		b.Run(s.name, func(b *testing.B) {
			b.SetBytes(int64(len(raw)))
			b.ReportAllocs()
			var out bytes.Buffer
			for b.Loop() {
				m, err := Parse(raw, Options{})
				if err != nil {
					b.Fatal(err)
				}
				out.Reset()
				if err := m.Render(&out, benchFooter, testSet); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(raw))/1024, "KiB/msg")
		})
	}
}

// BenchmarkRender measures each further recipient of a parsed message.
func BenchmarkRender(b *testing.B) {
	for _, s := range benchSizes {
		raw := benchMessage(s.htmlBytes, s.attachment)
		m, err := Parse(raw, Options{})
		if err != nil {
			b.Fatal(err)
		}
		b.Run(s.name, func(b *testing.B) {
			b.SetBytes(int64(len(raw)))
			b.ReportAllocs()
			var out bytes.Buffer
			i := 0
			for b.Loop() {
				out.Reset()
				i++
				f := Footer{Text: fmt.Sprintf("%s\nref %d", benchFooter.Text, i), HTML: benchFooter.HTML}
				if err := m.Render(&out, f, testSet); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func TestBenchMessagesAreWellFormed(t *testing.T) {
	for _, s := range benchSizes[:2] {
		raw := benchMessage(s.htmlBytes, s.attachment)
		out := render(t, raw, benchFooter, testSet)
		leaves := leavesOf(t, out)
		if !strings.Contains(string(leaves["0.1"].body), "désinscrire") {
			t.Errorf("%s: HTML not footed", s.name)
		}
		if s.attachment > 0 && len(leaves["1"].body) != s.attachment {
			t.Errorf("%s: attachment %d bytes, want %d", s.name, len(leaves["1"].body), s.attachment)
		}
	}
}
