package rewrite

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
)

// msg builds a CRLF message from LF lines.
func msg(lines ...string) []byte {
	return []byte(strings.Join(lines, "\r\n") + "\r\n")
}

func render(t *testing.T, raw []byte, f Footer, set []Header) []byte {
	t.Helper()
	m, err := Parse(raw, Options{Rand: fixedRand()})
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	var b bytes.Buffer
	if err := m.Render(&b, f, set); err != nil {
		t.Fatalf("Render: %v", err)
	}
	checkWire(t, raw, b.Bytes())
	return b.Bytes()
}

// bodyOf returns the decoded body of one part of rendered output.
func bodyOf(t *testing.T, out []byte, path string) string {
	t.Helper()
	e, ok := leavesOf(t, out)[path]
	if !ok {
		t.Fatalf("no part %q in\n%s", path, out)
	}
	return string(e.body)
}

func TestSignedPolicy(t *testing.T) {
	for _, name := range []string{"signed-pgp", "smime-pkcs7"} {
		in := loadCorpus(t, name)
		if _, err := Parse(in, Options{Signed: Refuse}); !errors.Is(err, ErrSigned) {
			t.Errorf("%s under Refuse: err = %v, want ErrSigned", name, err)
		}
		m, err := Parse(in, Options{Signed: HeadersOnly})
		if err != nil || !m.Signed() {
			t.Errorf("%s under HeadersOnly: Signed() = %v, err = %v", name, m != nil && m.Signed(), err)
		}
	}
}

func TestFootedOnlyFromOwnHeader(t *testing.T) {
	cases := map[string]bool{"already-footed": true, "reply-quoting-footed": false, "thunderbird-flowed": false}
	for name, want := range cases {
		m, err := Parse(loadCorpus(t, name), Options{})
		if err != nil {
			t.Fatal(err)
		}
		if m.Footed() != want {
			t.Errorf("%s: Footed() = %v, want %v", name, m.Footed(), want)
		}
	}
	// Once rendered, a message is Footed: the gateway never foots it twice.
	out := render(t, loadCorpus(t, "thunderbird-flowed"), footerEN, testSet)
	m, _ := Parse(out, Options{})
	var again bytes.Buffer
	if err := m.Render(&again, footerFR, testSet); err != nil {
		t.Fatal(err)
	}
	if !m.Footed() || strings.Count(again.String(), "-- \r\n") != 1 || strings.Contains(again.String(), "Paix") {
		t.Errorf("a rendered message was footed again:\n%s", again.String())
	}
}

func TestRenderRefusesUnsafeHeaders(t *testing.T) {
	m, err := Parse(msg("From: a@b.example", "", "hi"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	bad := []Header{
		{"List-Unsubscribe", "<https://x.example/u/1>\r\nBcc: victim@example.com"},
		{"List-Unsubscribe", "<https://x.example/u/1>\n"},
		{"List Unsubscribe", "x"},
		{"", "x"},
		{"X-A:B", "x"},
		{"Content-Type", "text/html"},
		{"MIME-Version", "1.0"},
		{"X-Long", strings.Repeat("a", maxWordLen+1)},
		{"X-Utf8", "caf\u00e9"},
		{strings.Repeat("X", maxNameLen+1), "x"},
	}
	for _, h := range bad {
		if err := m.Render(&bytes.Buffer{}, footerEN, []Header{h}); err == nil {
			t.Errorf("Render accepted header %q: %q", h.Key, h.Value)
		}
	}
}

func TestSetHeadersReplaceAndFold(t *testing.T) {
	in := msg("From: a@b.example", "list-unsubscribe: <mailto:old@b.example>", "Subject: s",
		"List-Unsubscribe: <https://old.example/>", "Message-ID: <m@b.example>", "", "hi")
	long := "<https://u.acme.example/u/" + strings.Repeat("T", 120) + ">, <mailto:unsubscribe+" + strings.Repeat("T", 120) + "@u.acme.example>"
	set := []Header{{"List-Unsubscribe", long}, {"List-Unsubscribe-Post", "List-Unsubscribe=One-Click"}}
	out := render(t, in, Footer{}, set)
	checkHeaders(t, out, set)
	hdr := string(out[:bytes.Index(out, []byte("\r\n\r\n"))])
	if strings.Index(hdr, "List-Unsubscribe:") > strings.Index(hdr, "Subject:") {
		t.Errorf("List-Unsubscribe not at the place of the first one:\n%s", hdr)
	}
	if !strings.Contains(hdr, ">,\r\n <mailto:") {
		t.Errorf("long value not folded at its space:\n%s", hdr)
	}
}

func TestMessageID(t *testing.T) {
	in := msg("From: =?utf-8?q?Zo=C3=A9?= <zoe@Acme.Example>", "", "hi")
	m, err := Parse(in, Options{})
	if err != nil {
		t.Fatal(err)
	}
	id := m.MessageID()
	if !strings.HasPrefix(id, "<") || !strings.HasSuffix(id, "@acme.example>") || len(id) < 2*idRandBytes {
		t.Fatalf("generated Message-ID %q", id)
	}
	for range 2 { // the same for every recipient
		var b bytes.Buffer
		m.Render(&b, footerEN, nil)
		if !strings.Contains(b.String(), "\r\nMessage-ID: "+id+"\r\n") {
			t.Errorf("render lacks %s:\n%s", id, b.String())
		}
	}
	var b bytes.Buffer
	m.Render(&b, footerEN, []Header{{"Message-ID", "<given@x.example>"}})
	if n := strings.Count(b.String(), "Message-ID:"); n != 1 || !strings.Contains(b.String(), "<given@x.example>") {
		t.Errorf("caller's Message-ID not used alone:\n%s", b.String())
	}
	if m2, _ := Parse(msg("Message-Id: <x@y>", "", "hi"), Options{}); m2.MessageID() != "" {
		t.Errorf("Message-ID generated for a message that has one")
	}
}

func TestHTMLPointBeforeBodyEnd(t *testing.T) {
	cases := map[string]string{
		"<html><body>hi</body></html>":                  "</body></html>",
		"<BODY>hi</BODY\t>":                             "</BODY\t>",
		"<body>a</body><p>tail</p></body>\r\n</html>":   "</body>\r\n</html>",
		"<body>hi</bodyguard> no close tag":             "",
		"no tags at all":                                "",
		"<body>x</Body\r\n>":                            "</Body\r\n>",
		"<body>x</body":                                 "</body",
		"<p>fragment</p><!-- </body> in a comment -->x": "",
		"<p>x</p></html>":                               "</html>",
		"<p>x<div title=\"</body>":                      "<div title=\"</body>",
	}
	for in, rest := range cases {
		at, _ := htmlPoint([]byte(in))
		if got := in[at:]; got != rest {
			t.Errorf("htmlPoint(%q) leaves %q, want %q", in, got, rest)
		}
	}
}

func TestLineEndsNormalised(t *testing.T) {
	in := []byte("From: a@b.example\nSubject: x\r\rhello\nworld\r")
	out := render(t, in, footerEN, testSet)
	if !strings.Contains(bodyOf(t, out, ""), "hello\r\nworld\r\n") {
		t.Errorf("body lost:\n%q", out)
	}
}

func TestNoReadableBodyWrapsInMixed(t *testing.T) {
	cases := map[string][]byte{
		"pdf": msg("From: a@b.example", "Content-Type: application/pdf", "Content-Transfer-Encoding: base64",
			"", "JVBERi0xLjQK"),
		"unknown charset": msg("From: a@b.example", "MIME-Version: 1.0", "Content-Type: text/plain; charset=x-unknown",
			"Content-Transfer-Encoding: 8bit", "", "caf\xe9"),
		"unknown encoding": msg("From: a@b.example", "Content-Type: text/plain", "Content-Transfer-Encoding: x-uuencode",
			"", "begin 644 x"),
		"calendar only": msg("From: a@b.example", "Content-Type: text/calendar; method=REQUEST", "",
			"BEGIN:VCALENDAR", "END:VCALENDAR"),
	}
	for name, in := range cases {
		t.Run(name, func(t *testing.T) {
			out := render(t, in, footerHU, testSet)
			leaves := leavesOf(t, out)
			if len(leaves) != 2 || leaves["1"].media != "text/plain" {
				t.Fatalf("want the original and a footer part, got %v:\n%s", leaves, out)
			}
			top, _ := parseTree(in, DefaultMaxDepth, DefaultMaxParts)
			if !bytes.Contains(out, in[top.bodyStart:]) || !bytes.Equal(leavesOf(t, in)[""].body, leaves["0"].body) {
				t.Errorf("original body changed:\n%s", out)
			}
			if !strings.Contains(string(leaves["1"].body), "adatkezelő") {
				t.Errorf("footer part: %q", leaves["1"].body)
			}
		})
	}
}

func TestConcurrentRenders(t *testing.T) {
	m, err := Parse(loadCorpus(t, "latin1-8bit-convert"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	outs := make([]bytes.Buffer, 8)
	for i := range outs {
		wg.Go(func() {
			f := Footer{Text: fmt.Sprintf("Leiratkozás: https://u.example/u/R%d", i)}
			m.Render(&outs[i], f, nil)
		})
	}
	wg.Wait()
	for i := range outs {
		want := fmt.Sprintf("/u/R%d\r\n", i)
		if got := bodyOf(t, outs[i].Bytes(), ""); !strings.HasSuffix(got, want) || strings.Count(got, "/u/R") != 1 {
			t.Errorf("recipient %d got %q", i, got)
		}
	}
}

func TestNestingBound(t *testing.T) {
	nest := func(n int) []byte {
		var b strings.Builder
		b.WriteString("From: a@b.example\r\n")
		for i := range n {
			fmt.Fprintf(&b, "Content-Type: multipart/mixed; boundary=b%d\r\n\r\n--b%d\r\n", i, i)
		}
		b.WriteString("Content-Type: text/plain\r\n\r\nhi\r\n")
		for i := n - 1; i >= 0; i-- {
			fmt.Fprintf(&b, "--b%d--\r\n", i)
		}
		return []byte(b.String())
	}
	if _, err := Parse(nest(DefaultMaxDepth+1), Options{}); !errors.Is(err, ErrTooDeep) {
		t.Errorf("depth %d: err = %v, want ErrTooDeep", DefaultMaxDepth+1, err)
	}
	out := render(t, nest(DefaultMaxDepth), footerEN, nil)
	if !strings.Contains(bodyOf(t, out, strings.Repeat("0.", DefaultMaxDepth-1)+"0"), "/u/"+testToken) {
		t.Errorf("deepest body not footed")
	}
}
