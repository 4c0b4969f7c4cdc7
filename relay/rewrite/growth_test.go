package rewrite

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// alternatives builds a multipart/alternative of n text/plain and n
// text/html parts, nested depth levels deep inside multipart/mixed, and
// followed by a second alternative group.
func alternatives(n, depth int) []byte {
	var b strings.Builder
	b.WriteString("From: rep@acme.example\r\nTo: jean@acme.fr\r\nSubject: many\r\nMIME-Version: 1.0\r\n")
	for d := range depth {
		fmt.Fprintf(&b, "Content-Type: multipart/mixed; boundary=\"m%d\"\r\n\r\n--m%d\r\n", d, d)
	}
	for g := range 2 {
		fmt.Fprintf(&b, "Content-Type: multipart/alternative; boundary=\"a%d\"\r\n\r\n", g)
		for i := range n {
			fmt.Fprintf(&b, "--a%d\r\nContent-Type: text/plain\r\n\r\nt%d\r\n", g, i)
			fmt.Fprintf(&b, "--a%d\r\nContent-Type: text/html\r\n\r\n<p>h%d</p>\r\n", g, i)
		}
		fmt.Fprintf(&b, "--a%d--\r\n", g)
		if g == 0 {
			fmt.Fprintf(&b, "--m%d\r\n", depth-1)
		}
	}
	for d := depth - 1; d >= 0; d-- {
		fmt.Fprintf(&b, "--m%d--\r\n", d)
	}
	return []byte(b.String())
}

// However many alternatives a message holds, and however deep, the footer
// goes into the last text/plain and the last text/html of the first group
// only, and the copy stays within the allowance.
func TestOneFooterPerAlternativeGroup(t *testing.T) {
	for _, c := range []struct{ n, depth int }{{1, 1}, {500, 1}, {200, DefaultMaxDepth - 1}} {
		in := alternatives(c.n, c.depth)
		out := render(t, in, footerEN, testSet)
		if got := bytes.Count(out, []byte("Privacy notice")); got != 2 {
			t.Errorf("n=%d depth=%d: %d footers, want 2 (one text, one HTML)", c.n, c.depth, got)
		}
		last := fmt.Sprintf("t%d\r\n\r\n-- \r\nAcme", c.n-1)
		if !bytes.Contains(out, []byte(last)) || !bytes.Contains(out, []byte(fmt.Sprintf("<p>h%d</p>%s", c.n-1, HTMLMarker))) {
			t.Errorf("n=%d depth=%d: the last alternatives of the first group are not the footed ones", c.n, c.depth)
		}
		if limit := len(in) + Allowance(footerEN, testSet); len(out) > limit {
			t.Errorf("n=%d depth=%d: copy of %d bytes, allowance ends at %d", c.n, c.depth, len(out), limit)
		}
	}
}

// A copy that would grow past the allowance is refused, not sent: here a
// body labelled 7bit full of 8-bit bytes must be re-encoded whole.
func TestGrowthPastAllowanceRefused(t *testing.T) {
	body := bytes.Repeat([]byte("\xe9t\xe9 \xe0 la plage. "), 20000)
	in := append([]byte("From: rep@acme.example\r\nTo: jean@acme.fr\r\nSubject: big\r\n"+
		"Content-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: 7bit\r\n\r\n"), body...)
	in = append(in, "\r\n"...)
	m, err := Parse(in, Options{Rand: fixedRand()})
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := m.Render(&out, footerEN, testSet); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("Render = %v (%d bytes from %d), want ErrTooLarge", err, out.Len(), len(in))
	}
	if out.Len() != 0 {
		t.Errorf("%d bytes written before the refusal", out.Len())
	}
}

// A message of more MIME parts than Options.MaxParts is refused at Parse:
// its tree would otherwise cost many times the message's own size.
func TestTooManyPartsRefused(t *testing.T) {
	// alternatives(n, 1) holds 4n+4 entities.
	if _, err := Parse(alternatives(DefaultMaxParts/4, 1), Options{}); !errors.Is(err, ErrTooManyParts) {
		t.Fatalf("Parse of %d parts = %v, want ErrTooManyParts", DefaultMaxParts+4, err)
	}
	if _, err := Parse(alternatives(DefaultMaxParts/4-1, 1), Options{}); err != nil {
		t.Fatalf("Parse of %d parts: %v", DefaultMaxParts, err)
	}
}

// When the alternative an HTML (or text) reader would show cannot be
// footed (a charset nothing decodes), an earlier one is not enough: that
// reader would see no footer. The message then also gets the footer as a
// part of its own.
func TestShadowedAlternativeGetsFooterPart(t *testing.T) {
	alt := "--a\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nHello\r\n" +
		"--a\r\nContent-Type: text/html; charset=x-no-such-charset\r\n\r\n<p>Hello</p>\r\n--a--\r\n"
	for name, in := range map[string][]byte{
		"top": msg("From: a@b.example", "Subject: x", "MIME-Version: 1.0",
			`Content-Type: multipart/alternative; boundary="a"`, "", alt),
		"in mixed": msg("From: a@b.example", "Subject: x", "MIME-Version: 1.0",
			`Content-Type: multipart/mixed; boundary="m"`, "", "--m", `Content-Type: multipart/alternative; boundary="a"`, "", alt+
				"--m\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=x.pdf\r\n\r\nJVBERi0=\r\n--m--"),
	} {
		out := render(t, in, footerEN, testSet)
		if n := bytes.Count(out, []byte("Privacy notice")); n != 2 {
			t.Errorf("%s: %d footers, want 2 (the text body and a part of its own):\n%s", name, n, out)
		}
		if !bytes.Contains(out, []byte("<p>Hello</p>\r\n--a--")) {
			t.Errorf("%s: the unreadable HTML alternative changed:\n%s", name, out)
		}
	}
}
