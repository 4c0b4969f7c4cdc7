package rewrite

import (
	"bytes"
	"strings"
	"testing"
)

// headerOf returns the header of one part of the output, as written.
func partHeader(t *testing.T, out []byte, path string) string {
	t.Helper()
	return leavesOf(t, out)[path].ctype
}

func TestSevenBitTextGetsUTF8AndQP(t *testing.T) {
	in := msg("From: a@b.example", "Content-Type: text/plain; charset=us-ascii; format=flowed", "", "Hello ")
	out := render(t, in, footerFR, nil)
	if ct := partHeader(t, out, ""); !strings.Contains(ct, "charset=utf-8") || !strings.Contains(ct, "format=flowed") {
		t.Errorf("Content-Type %q: want utf-8, flowed kept", ct)
	}
	if !bytes.Contains(out, []byte("Content-Transfer-Encoding: quoted-printable\r\n")) {
		t.Errorf("no quoted-printable:\n%s", out)
	}
	if got := bodyOf(t, out, ""); !strings.HasPrefix(got, "Hello\r\n\r\n-- \r\nAcme SAS") {
		t.Errorf("flowed last line not closed before the footer: %q", got)
	}
}

func TestHTMLKeepsCharsetWithReferences(t *testing.T) {
	in := msg("From: a@b.example", "Content-Type: text/html; charset=iso-8859-1", "",
		"<html><body>caf\xe9</body></html>")
	out := render(t, in, footerHU, nil)
	got := bodyOf(t, out, "")
	if !strings.Contains(got, "adatkezel&#337;") || !strings.Contains(got, "Leiratkozás") || !strings.Contains(got, "café") {
		t.Errorf("want ő as a reference and á in Latin-1: %q", got)
	}
	if ct := partHeader(t, out, ""); !strings.Contains(strings.ToLower(ct), "iso-8859-1") {
		t.Errorf("charset changed: %q", ct)
	}
}

func TestFooterNeverReadsAsDelimiter(t *testing.T) {
	in := msg("From: a@b.example", "Content-Type: multipart/mixed; boundary=b1", "",
		"--b1", "Content-Type: text/plain", "", "hi", "--b1", "Content-Type: text/plain; name=x.txt", "", "att", "--b1--")
	out := render(t, in, Footer{Text: "--b1\n--b1--\nbye"}, nil)
	leaves := leavesOf(t, out)
	if len(leaves) != 2 || !strings.Contains(string(leaves["0"].body), "--b1--\r\nbye") || string(leaves["1"].body) != "att" {
		t.Errorf("structure broken: %v\n%s", leaves, out)
	}
}

func TestEmptyFooterSetsHeadersOnly(t *testing.T) {
	in := loadCorpus(t, "outlook-alternative-cp1252")
	out := render(t, in, Footer{Text: " \n", HTML: ""}, testSet)
	top, _ := parseTree(in, DefaultMaxDepth, DefaultMaxParts)
	if !bytes.HasSuffix(out, in[top.bodyStart:]) || bytes.Contains(out, []byte(MarkerHeader)) {
		t.Errorf("body changed or marked without a footer:\n%s", out)
	}
}

func TestHTMLFromTextIsEscaped(t *testing.T) {
	in := msg("From: a@b.example", "Content-Type: text/html; charset=utf-8", "", "<p>hi</p>")
	out := render(t, in, Footer{Text: "<script>alert(1)</script> & co\nline 2"}, nil)
	got := bodyOf(t, out, "")
	if strings.Contains(got, "<script>") || !strings.Contains(got, "&lt;script&gt;") || !strings.Contains(got, "co<br>") {
		t.Errorf("text footer not escaped into HTML: %q", got)
	}
}

func TestHTMLOnlyFooterLeavesText(t *testing.T) {
	in := loadCorpus(t, "calendar-invite")
	out := render(t, in, Footer{HTML: "<p>html footer</p>"}, nil)
	leaves := leavesOf(t, out)
	if strings.Contains(string(leaves["0"].body), "footer") || !strings.Contains(string(leaves["1"].body), "html footer") {
		t.Errorf("want only the HTML footed: %v", leaves)
	}
}

func TestFlowedFooterIsStuffed(t *testing.T) {
	in := msg("From: a@b.example", "Content-Type: text/plain; charset=utf-8; format=flowed", "", "Hi", "-- ", "Bob")
	out := render(t, in, Footer{Text: "> not a quote  \n From here\nFrom you"}, nil)
	got := bodyOf(t, out, "")
	want := "Hi\r\n-- \r\nBob\r\n\r\n > not a quote\r\n  From here\r\n From you\r\n"
	if got != want {
		t.Errorf("flowed footer:\n got %q\nwant %q", got, want)
	}
}

func TestAppendsIntoMixedWithoutReadableBody(t *testing.T) {
	in := msg("From: a@b.example", "Content-Type: multipart/mixed; boundary=zz", "",
		"--zz--")
	out := render(t, in, footerEN, nil)
	if leaves := leavesOf(t, out); len(leaves) != 1 || leaves["0"].media != "text/plain" {
		t.Errorf("footer part missing from an empty mixed: %v\n%s", leaves, out)
	}
}

func TestSevenBitMessageStaysSevenBit(t *testing.T) {
	in := msg("From: a@b.example", "Content-Type: text/plain; charset=utf-8", "Content-Transfer-Encoding: 8bit", "", "hi")
	out := render(t, in, footerHU, nil) // render's checkWire fails on any 8-bit byte
	if !bytes.Contains(out, []byte("Content-Transfer-Encoding: quoted-printable")) {
		t.Errorf("want quoted-printable:\n%s", out)
	}
	in8 := msg("From: =?utf-8?q?x?= <a@b.example>", "Subject: caf\xc3\xa9", "Content-Type: text/plain; charset=utf-8",
		"Content-Transfer-Encoding: 8bit", "", "hi")
	if out := render(t, in8, footerHU, nil); !strings.Contains(string(out), "adatkezelő") {
		t.Errorf("an 8-bit message should keep its 8bit part unencoded:\n%s", out)
	}
}

func TestKeepsClientQuotedPrintable(t *testing.T) {
	long := strings.Repeat("x", maxLineOctets+10)
	for name, c := range map[string]struct {
		line string
		kept bool
	}{
		"client lines kept":       {"=41 encoded by the client", true},
		"overlong line reencoded": {long, false},
	} {
		in := msg("From: a@b.example", "Content-Type: text/html; charset=utf-8", "Content-Transfer-Encoding: quoted-printable",
			"", c.line, "<body>hi</body>")
		out := render(t, in, footerEN, nil)
		if bytes.Contains(out, []byte("\r\n"+c.line+"\r\n")) != c.kept {
			t.Errorf("%s: line %.20q kept = %v, want %v", name, c.line, !c.kept, c.kept)
		}
		if got := bodyOf(t, out, ""); !strings.HasPrefix(got, strings.ReplaceAll(c.line, "=41", "A")+"\r\n<body>hi") {
			t.Errorf("%s: body %.60q", name, got)
		}
	}
}
