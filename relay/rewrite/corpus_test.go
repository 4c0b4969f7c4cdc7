package rewrite

import (
	"bytes"
	"flag"
	"html"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files of testdata/corpus")

var (
	footerEN = Footer{
		Text: "Acme Ltd, 1 Main Street, Springfield. We found your address on your company's website.\n" +
			"Privacy notice: https://acme.example/privacy\nUnsubscribe: https://u.acme.example/u/" + testToken,
		HTML: `<p style="font-size:11px;color:#666">Acme Ltd &middot; <a href="https://acme.example/privacy">Privacy notice</a>` +
			"\n" + `&middot; <a href="https://u.acme.example/u/` + testToken + `">Unsubscribe</a></p>`,
	}
	footerFR = Footer{
		Text: "Acme SAS, 1 rue de la Paix, Paris. Données : https://acme.example/confidentialite\n" +
			"Se désinscrire : https://u.acme.example/u/" + testToken,
		HTML: `<p>Acme SAS &ndash; <a href="https://u.acme.example/u/` + testToken + `">Se désinscrire</a></p>`,
	}
	// footerHU has "ő", which neither ISO-8859-1 nor windows-1252 holds.
	footerHU = Footer{
		Text: "Acme Kft. adatkezelő: dpo@acme.example\nLeiratkozás: https://u.acme.example/u/" + testToken,
		HTML: `<p>Acme Kft. adatkezelő &ndash; <a href="https://u.acme.example/u/` + testToken + `">Leiratkozás</a></p>`,
	}
)

// footerWord is a word of each footer that only decodes right when the
// charset label on the footed part tells the truth.
var footerWord = map[*Footer]string{&footerEN: "Privacy notice", &footerFR: "désinscrire", &footerHU: "adatkezelő"}

type corpusCase struct {
	footer *Footer
	footed []string // paths of the bodies that must carry the footer
	signed bool
}

var corpus = map[string]corpusCase{
	"outlook-alternative-cp1252": {footer: &footerFR, footed: []string{"0", "1"}},
	"apple-related-inline-image": {footer: &footerEN, footed: []string{"0", "1.0"}},
	"thunderbird-flowed":         {footer: &footerFR, footed: []string{""}},
	"html-only":                  {footer: &footerHU, footed: []string{""}},
	"base64-text":                {footer: &footerFR, footed: []string{""}},
	"no-content-type":            {footer: &footerHU, footed: []string{""}},
	"forwarded-rfc822":           {footer: &footerFR, footed: []string{"0"}},
	"signed-pgp":                 {footer: &footerEN, signed: true},
	"smime-pkcs7":                {footer: &footerEN, signed: true},
	"calendar-invite":            {footer: &footerEN, footed: []string{"0", "1"}},
	"rfc2047-headers":            {footer: &footerEN, footed: []string{""}},
	"latin1-8bit-convert":        {footer: &footerHU, footed: []string{""}},
	"reply-quoting-footed":       {footer: &footerFR, footed: []string{"0", "1"}},
	"already-footed":             {footer: &footerEN},
	"mixed-attachments":          {footer: &footerEN, footed: []string{"1.0", "1.1"}},
	"attachment-only":            {footer: &footerEN, footed: []string{"1"}},
	"long-line-7bit":             {footer: &footerEN, footed: []string{""}},
}

// loadCorpus reads an input, stored with LF line ends for editing, as the
// relay hands it over: CRLF.
func loadCorpus(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "corpus", name+".eml"))
	if err != nil {
		t.Fatal(err)
	}
	return bytes.ReplaceAll(b, []byte("\n"), crlf)
}

func TestCorpus(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("testdata", "corpus", "*.eml"))
	if len(files) != len(corpus) {
		t.Errorf("%d corpus files, %d cases: every file needs a case", len(files), len(corpus))
	}
	for name, c := range corpus {
		t.Run(name, func(t *testing.T) {
			in := loadCorpus(t, name)
			out := renderCase(t, in, *c.footer)
			checkGolden(t, name, out)
			checkCase(t, c, in, out)
		})
	}
}

func renderCase(t *testing.T, in []byte, f Footer) []byte {
	t.Helper()
	m, err := Parse(in, Options{Rand: fixedRand()})
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	var out bytes.Buffer
	if err := m.Render(&out, f, testSet); err != nil {
		t.Fatalf("Render: %v", err)
	}
	return out.Bytes()
}

func checkGolden(t *testing.T, name string, out []byte) {
	t.Helper()
	path := filepath.Join("testdata", "corpus", name+".golden")
	if *update {
		if err := os.WriteFile(path, out, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -run TestCorpus -update)", err)
	}
	if !bytes.Equal(out, want) {
		t.Errorf("output differs from %s:\n%s", path, out)
	}
}

func checkCase(t *testing.T, c corpusCase, in, out []byte) {
	checkWire(t, in, out)
	checkHeaders(t, out, testSet)
	footed := map[string]bool{}
	for _, p := range c.footed {
		footed[p] = true
	}
	checkUntouched(t, in, out, footed)
	before, after := leavesOf(t, in), leavesOf(t, out)
	for path, e := range after {
		want := 0
		if footed[path] {
			want = 1
		}
		checkFooterCount(t, path, e, want, footerWord[c.footer])
		if b, ok := before[path]; ok && footed[path] {
			checkKept(t, path, b, e)
		}
	}
	if c.signed {
		top, _ := parseTree(in, DefaultMaxDepth, DefaultMaxParts)
		if !bytes.HasSuffix(out, in[top.bodyStart:]) {
			t.Errorf("signed body changed")
		}
	}
}

// checkFooterCount asserts how often this recipient's unsubscribe link and
// a footer word appear in a decoded body; links of earlier recipients
// (quoted replies) do not count.
func checkFooterCount(t *testing.T, path string, e entityInfo, want int, word string) {
	t.Helper()
	text := string(e.body)
	if e.media == "text/html" {
		text = html.UnescapeString(text)
	}
	if n := strings.Count(text, "/u/"+testToken); n != want {
		t.Errorf("part %q (%s): unsubscribe link %d times, want %d:\n%s", path, e.media, n, want, text)
	}
	if n := strings.Count(text, word); n != want {
		t.Errorf("part %q (%s): footer word %q %d times, want %d (charset label wrong?)", path, e.media, word, n, want)
	}
}

// checkKept asserts the footed body still holds the original: text as a
// prefix (trailing white space aside), HTML around the insertion point.
func checkKept(t *testing.T, path string, before, after entityInfo) {
	t.Helper()
	b, a := string(before.body), string(after.body)
	if before.media == "text/plain" {
		if !strings.HasPrefix(a, strings.TrimRight(b, " \r\n")) {
			t.Errorf("part %q: original text not kept:\n%q\n%q", path, b, a)
		}
		return
	}
	at := strings.LastIndex(strings.ToLower(b), "</body")
	if at < 0 {
		at = len(b)
	}
	if !strings.HasPrefix(a, b[:at]) || !strings.HasSuffix(a, b[at:]) {
		t.Errorf("part %q: HTML around the footer changed:\n%q\n%q", path, b, a)
	}
	if i := strings.LastIndex(a, HTMLMarker); i < at {
		t.Errorf("part %q: marker not before </body>", path)
	}
}
