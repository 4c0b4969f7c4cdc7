package stamp

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"strings"
	"testing"
)

// benchSizes: the readable part stays small and the large messages are
// mostly a base64 attachment, as large real mail is.
var benchSizes = []struct {
	name       string
	text       int // bytes of text, and as many of HTML
	attachment int
}{
	{"4KB", 1800, 0},
	{"100KB", 16 << 10, 50 << 10},
	{"10MB", 16 << 10, 7600 << 10},
}

// benchMessage is a multipart/mixed message: text and HTML alternatives,
// then an attachment when asked.
func benchMessage(text, attachment int) []byte {
	var b strings.Builder
	b.WriteString("From: Sam Rep <rep@acme.example>\r\nTo: jean@prospect.fr\r\nSubject: Offre\r\n" +
		"Date: Sun, 29 Nov 2026 12:00:00 +0000\r\nMessage-ID: <bench@acme.example>\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/mixed; boundary=\"mix\"\r\n\r\n--mix\r\n" +
		"Content-Type: multipart/alternative; boundary=\"alt\"\r\n\r\n--alt\r\n" +
		"Content-Type: text/plain; charset=utf-8\r\n\r\n")
	line := "Bonjour Jean, voici notre proposition pour votre equipe commerciale.\r\n"
	b.WriteString(strings.Repeat(line, text/len(line)+1))
	b.WriteString("\r\n--alt\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<html><body>\r\n")
	b.WriteString(strings.Repeat("<p>"+strings.TrimSpace(line)+"</p>\r\n", text/len(line)+1))
	b.WriteString("</body></html>\r\n\r\n--alt--\r\n")
	if attachment > 0 {
		data := make([]byte, attachment*3/4)
		rand.Read(data)
		enc := base64.StdEncoding.EncodeToString(data)
		b.WriteString("\r\n--mix\r\nContent-Type: application/pdf\r\n" +
			"Content-Disposition: attachment; filename=\"offre.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\n")
		for len(enc) > 76 {
			b.WriteString(enc[:76] + "\r\n")
			enc = enc[76:]
		}
		b.WriteString(enc + "\r\n")
	}
	b.WriteString("\r\n--mix--\r\n")
	return []byte(b.String())
}

// BenchmarkStampSmtpSource is the end-to-end bench's message: smtp-source's
// 4 KB of plain ASCII lines to a .net address (an English footer).
func BenchmarkStampSmtpSource(b *testing.B) {
	var m strings.Builder
	m.WriteString("From: <bench@example.com>\r\nTo: <rcpt@example.net>\r\n" +
		"Date: Sun, 29 Nov 2026 12:07:02 +0000 (UTC)\r\nMessage-Id: <082d.0003.0000@vm>\r\n\r\n")
	for i := 0; m.Len() < 4096; i++ {
		m.WriteString(strings.Repeat("X", 78) + "\r\n")
	}
	raw := []byte(m.String())
	s := newStamper(b)
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		p, err := s.Prepare(raw, "bench@example.com")
		if err != nil {
			b.Fatal(err)
		}
		if _, err := p.For("rcpt@example.net", "", ""); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkStamp measures one message for one recipient as the relay runs
// it: Prepare, then For. MB/s counts the original message's bytes.
func BenchmarkStamp(b *testing.B) {
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	for _, signed := range []bool{false, true} {
		for _, sz := range benchSizes {
			name := sz.name
			var d *DKIM
			if signed {
				name, d = sz.name+"/dkim-ed25519", &DKIM{Domain: "acme.example", Selector: "s1", Signer: key}
			}
			raw := benchMessage(sz.text, sz.attachment)
			s := newStamper(b, func(o *Options) { o.DKIM = d })
			b.Run(name, func(b *testing.B) {
				b.SetBytes(int64(len(raw)))
				b.ReportAllocs()
				for b.Loop() {
					p, err := s.Prepare(raw, "rep@acme.example")
					if err != nil {
						b.Fatal(err)
					}
					if _, err := p.For("jean@prospect.fr", "", ""); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
