package rewrite

import (
	"bytes"
	"encoding/base64"
	"testing"

	"pgregory.net/rapid"
)

// textish draws bytes rich in what encoders trip on: line breaks, "=",
// dashes, spaces at line ends, 8-bit bytes.
func textish() *rapid.Generator[[]byte] {
	parts := rapid.SampledFrom([]string{"a", "Z", " ", "\t", "=", "-", "--", "\r\n", "\r", "\n", ".", "\x00", "\xe9", "\xff", "From "})
	return rapid.Custom(func(t *rapid.T) []byte {
		var b []byte
		for _, p := range rapid.SliceOfN(parts, 0, 300).Draw(t, "parts") {
			b = append(b, p...)
		}
		return b
	})
}

func TestQuotedPrintable(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		a, b := textish().Draw(t, "a"), textish().Draw(t, "b")
		enc := appendQP(nil, a)
		if got := decodeQP(enc); !bytes.Equal(got, a) {
			t.Fatalf("round trip of %q gave %q via %q", a, got, enc)
		}
		for _, line := range bytes.Split(enc, crlf) {
			if len(line) > qpLineMax || bytes.HasPrefix(line, []byte("--")) || has8bit(line) ||
				bytes.ContainsAny(line, "\r\n\x00") {
				t.Fatalf("bad encoded line %q", line)
			}
			if n := len(line); n > 0 && (line[n-1] == ' ' || line[n-1] == '\t') {
				t.Fatalf("trailing white space in %q", line)
			}
		}
		// Encoding is line by line: a prefix ending in CRLF encodes alone.
		whole := append(append(append([]byte(nil), a...), crlf...), b...)
		split := appendQP(appendQP(nil, append(append([]byte(nil), a...), crlf...)), b)
		if !bytes.Equal(appendQP(nil, whole), split) {
			t.Fatalf("prefix encoding differs for %q + %q", a, b)
		}
	})
}

func TestBase64(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		a := rapid.SliceOf(rapid.Byte()).Draw(t, "a")
		b := rapid.SliceOf(rapid.Byte()).Draw(t, "b")
		enc := appendBase64(nil, a)
		if got := decodeBase64(enc); !bytes.Equal(got, a) {
			t.Fatalf("round trip of %x gave %x", a, got)
		}
		k := len(a) / b64LineBytes * b64LineBytes
		whole := append(append([]byte(nil), a...), b...)
		if !bytes.Equal(appendBase64(appendBase64(nil, whole[:k]), whole[k:]), appendBase64(nil, whole)) {
			t.Fatalf("prefix encoding differs")
		}
	})
}

func TestLenientDecoding(t *testing.T) {
	qp := map[string]string{
		"caf=E9 =\r\nsoft":   "caf\xe9 soft",
		"bad =ZZ and =4":     "bad =ZZ and =4",
		"lower =e9":          "lower \xe9",
		"trail   \r\nnext":   "trail\r\nnext",
		"padded= \t\r\njoin": "paddedjoin",
	}
	for in, want := range qp {
		if got := string(decodeQP([]byte(in))); got != want {
			t.Errorf("decodeQP(%q) = %q, want %q", in, got, want)
		}
	}
	enc := base64.StdEncoding.EncodeToString([]byte("hello, world"))
	for _, in := range []string{enc, enc[:8] + "\r\n " + enc[8:], enc[:len(enc)-1], enc + "\r\n!!"} {
		if got := string(decodeBase64([]byte(in))); got != "hello, world" && got != "hello, worl" {
			t.Errorf("decodeBase64(%q) = %q", in, got)
		}
	}
}
