package rewrite

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzRender feeds arbitrary messages to Parse and Render. Whatever the
// input: no panic; when Parse accepts it, the output has CRLF line ends
// only, go-message reads it whenever it could read the input, every part
// that is not a footed body is copied byte for byte, and the output stays
// within a bound of the input and footer sizes. Seeds: the golden corpus
// (added here) and testdata/fuzz/FuzzRender.
func FuzzRender(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "corpus", "*.eml"))
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(bytes.ReplaceAll(b, []byte("\n"), crlf))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		m, err := Parse(in, Options{Rand: fixedRand()})
		if err != nil {
			return
		}
		var out bytes.Buffer
		if err := m.Render(&out, footerHU, testSet); errors.Is(err, ErrTooLarge) {
			return // refused whole: nothing written
		} else if err != nil {
			t.Fatalf("Render: %v", err)
		}
		checkFuzzOutput(t, m, in, out.Bytes())
	})
}

// fataler is what the checks need of *testing.T and *rapid.T.
type fataler interface {
	Helper()
	Fatalf(format string, args ...any)
}

// fuzzSlack covers the header fields Render adds (set headers, marker,
// Message-ID, MIME-Version, a wrapping multipart's lines).
const fuzzSlack = 2048

func checkFuzzOutput(t fataler, m *Message, in, out []byte) {
	raw := m.raw.b
	if hasBareLineEnd(out) {
		t.Fatalf("bare CR or LF in output:\n%q", out)
	}
	if !has8bit(in) && has8bit(out) {
		t.Fatalf("7-bit input became 8-bit:\n%q", out)
	}
	if _, err := readLeaves(raw); err == nil {
		if _, err := readLeaves(out); err != nil {
			t.Fatalf("go-message read the input but not the output: %v\n%q\n%q", err, raw, out)
		}
	}
	footed := map[*part]bool{}
	for _, l := range m.leaves {
		footed[l.p] = true
	}
	checkPartsKept(t, m, out, footed)
	// Converting a charset to UTF-8 can triple a byte, and encoding that
	// for the wire adds a third: 5 covers both.
	perFooter := 10*(len(footerHU.Text)+len(footerHU.HTML)) + 512
	if limit := 5*len(in) + len(m.leaves)*perFooter + fuzzSlack; len(out) > limit {
		t.Fatalf("output %d bytes for %d in, limit %d", len(out), len(in), limit)
	}
}

// checkPartsKept asserts that every part with no footed body inside comes
// out byte-identical, and the whole body too when none is footed (up to
// where a footer part is added).
func checkPartsKept(t fataler, m *Message, out []byte, footed map[*part]bool) {
	raw, top := m.raw.b, m.top
	if len(footed) == 0 {
		end := len(raw)
		if a := m.appendix; a != nil && !a.wrap {
			end = a.at
		}
		if !bytes.Contains(out, raw[top.bodyStart:end]) {
			t.Fatalf("body changed though no body was footed:\n%q\n%q", raw, out)
		}
	}
	var walk func(p *part) bool // reports whether p holds a footed body
	walk = func(p *part) bool {
		holds := footed[p]
		for _, c := range p.children {
			holds = walk(c) || holds
		}
		if !holds && p != top && !bytes.Contains(out, raw[p.start:p.end]) {
			t.Fatalf("part %q changed:\n%q", raw[p.start:p.end], out)
		}
		return holds
	}
	walk(top)
}
