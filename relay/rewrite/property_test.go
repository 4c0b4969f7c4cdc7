package rewrite

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"html"
	"mime/quotedprintable"
	"strings"
	"testing"

	"golang.org/x/text/encoding"
	"pgregory.net/rapid"
)

// TestRenderProperties builds random but well-formed MIME trees (every
// kind of part, charset and transfer encoding the corpus has, and some
// it has not) and checks what FuzzRender checks, plus: every body Parse
// chose carries this recipient's footer exactly once, decoded, and a
// message with none gets a footer part.
func TestRenderProperties(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		var b strings.Builder
		b.WriteString("From: Rep <rep@acme.example>\r\nSubject: test\r\n")
		genPart(t, &b, 0, "")
		in := []byte(b.String())
		f := rapid.SampledFrom([]Footer{footerEN, footerFR, footerHU,
			{Text: "--b0\n-- \n> x\nFrom me\n" + "/u/" + testToken}}).Draw(t, "footer")
		m, err := Parse(in, Options{Rand: fixedRand()})
		if err != nil {
			t.Fatalf("Parse: %v\n%s", err, in)
		}
		var out bytes.Buffer
		if err := m.Render(&out, f, testSet); err != nil {
			t.Fatalf("Render: %v", err)
		}
		checkFuzzOutput(t, m, in, out.Bytes())
		checkFootedOnce(t, m, in, out.Bytes())
	})
}

// checkFootedOnce: every body Parse chose carries the footer once, decoded;
// at most one text/plain and one text/html body are chosen; the footer
// part, when the message gets one, carries it once more; and no other part
// carries it.
func checkFootedOnce(t *rapid.T, m *Message, in, out []byte) {
	if _, err := readLeaves(in); err != nil {
		t.Fatalf("generated input unreadable: %v\n%s", err, in)
	}
	after, err := readLeaves(out)
	if err != nil {
		t.Fatalf("output unreadable: %v", err)
	}
	paths := pathsOf(m.top)
	wrapped := m.appendix != nil && m.appendix.wrap
	chosen := map[string]bool{}
	var texts, htmls int
	for _, l := range m.leaves {
		path := paths[l.p]
		if wrapped { // the original body became the first part of a new multipart/mixed
			path = strings.TrimSuffix("0."+path, ".")
		}
		chosen[path] = true
		if l.html {
			htmls++
		} else {
			texts++
		}
		if n := footers(after[path]); n != 1 {
			t.Fatalf("body %q (%s): footer %d times\n%s\n---\n%s", path, after[path].media, n, in, out)
		}
	}
	if texts > 1 || htmls > 1 {
		t.Fatalf("%d text and %d HTML bodies footed, want at most one of each:\n%s", texts, htmls, in)
	}
	var parts int
	for path, e := range after {
		if !chosen[path] {
			parts += footers(e)
		}
	}
	want := 0
	if m.appendix != nil {
		want = 1
	}
	if parts != want {
		t.Fatalf("%d footers outside the chosen bodies, want %d (a footer part: %v):\n%s\n---\n%s", parts, want, m.appendix != nil, in, out)
	}
	if len(m.leaves) == 0 && !m.signed && m.appendix == nil {
		t.Fatalf("no body to foot and no footer part:\n%s", in)
	}
}

// footers counts this recipient's footer links in a decoded part.
func footers(e entityInfo) int {
	text := string(e.body)
	if e.media == "text/html" {
		text = html.UnescapeString(text)
	}
	return strings.Count(text, "/u/"+testToken)
}

func pathsOf(top *part) map[*part]string {
	out := map[*part]string{}
	var walk func(p *part, path string)
	walk = func(p *part, path string) {
		out[p] = path
		for i, c := range p.children {
			k := fmt.Sprint(i)
			if path != "" {
				k = path + "." + k
			}
			walk(c, k)
		}
	}
	walk(top, "")
	return out
}

var (
	genMedia    = []string{"text/plain", "text/html", "text/plain", "text/html", "multipart/mixed", "multipart/alternative", "multipart/related", "image/png", "message/rfc822", "text/calendar", "multipart/signed"}
	genCharsets = []string{"", "us-ascii", "utf-8", "iso-8859-1", "windows-1252", "iso-8859-2", "koi8-r", "shift_jis", "utf-16", "x-unknown"}
	genCTEs     = []string{"", "7bit", "8bit", "quoted-printable", "base64", "binary"}
	genDisp     = []string{"", "", "", "inline", "attachment", "inline; filename=a.txt"}
	genWords    = []string{"\x80\x81\x82\x83\x84\x85\x86\x87", "hello", " ", "\n", "\n\n", "café", "ő", "€", "Привет", "日本", "</body>", "</BODY >", "<body>", "--", "-- \n", "> quoted\n", "=", "=3D", "line ", strings.Repeat("long", 300), "<blockquote>", "\t"}
)

// genPart writes one part (header and body) to b.
func genPart(t *rapid.T, b *strings.Builder, depth int, label string) {
	media := rapid.SampledFrom(genMedia).Draw(t, "media"+label)
	if depth >= 3 && strings.HasPrefix(media, "multipart/") {
		media = "text/plain"
	}
	if strings.HasPrefix(media, "multipart/") {
		bd := fmt.Sprintf("b%d-%s", depth, label)
		fmt.Fprintf(b, "Content-Type: %s; boundary=\"%s\"\r\n\r\n", media, bd)
		if rapid.Bool().Draw(t, "preamble"+label) {
			b.WriteString("preamble text\r\n")
		}
		n := rapid.IntRange(0, 3).Draw(t, "n"+label)
		for i := range n {
			fmt.Fprintf(b, "--%s\r\n", bd)
			genPart(t, b, depth+1, fmt.Sprintf("%s%d", label, i))
			b.WriteString("\r\n")
		}
		fmt.Fprintf(b, "--%s--\r\n", bd)
		return
	}
	cs := rapid.SampledFrom(genCharsets).Draw(t, "charset"+label)
	cte := rapid.SampledFrom(genCTEs).Draw(t, "cte"+label)
	b.WriteString("Content-Type: " + media)
	if cs != "" {
		b.WriteString("; charset=" + cs)
	}
	if rapid.Bool().Draw(t, "flowed"+label) {
		b.WriteString("; format=flowed")
	}
	b.WriteString("\r\n")
	if d := rapid.SampledFrom(genDisp).Draw(t, "disp"+label); d != "" {
		b.WriteString("Content-Disposition: " + d + "\r\n")
	}
	if cte != "" {
		b.WriteString("Content-Transfer-Encoding: " + cte + "\r\n")
	}
	b.WriteString("\r\n")
	var text strings.Builder
	for _, w := range rapid.SliceOfN(rapid.SampledFrom(genWords), 0, 12).Draw(t, "words"+label) {
		text.WriteString(w)
	}
	b.Write(encodeForWire(charsetBytes(cs, strings.ReplaceAll(text.String(), "\n", "\r\n")), cte))
}

// charsetBytes encodes text in the charset, with stand-ins for what it
// lacks; unknown charsets get the UTF-8 bytes.
func charsetBytes(cs, s string) []byte {
	c := lookupCharset(cs)
	if c.enc == nil {
		return []byte(s)
	}
	out, err := encoding.ReplaceUnsupported(c.enc.NewEncoder()).Bytes([]byte(s))
	if err != nil {
		return []byte(s)
	}
	return out
}

// encodeForWire applies a transfer encoding with the standard library's
// encoders, not the package's own; 7bit, 8bit and binary bodies get bare
// line breaks and long lines made valid only as far as the label promises
// nothing (any byte goes, as clients send).
func encodeForWire(b []byte, cte string) []byte {
	switch cte {
	case "quoted-printable":
		var out bytes.Buffer
		w := quotedprintable.NewWriter(&out)
		w.Write(b)
		w.Close()
		return out.Bytes()
	case "base64":
		s := base64.StdEncoding.EncodeToString(b)
		var out []byte
		for len(s) > 76 {
			out = append(append(out, s[:76]...), crlf...)
			s = s[76:]
		}
		return append(out, s...)
	}
	return normalizeLineEnds(b)
}
