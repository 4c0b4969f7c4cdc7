package rewrite

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/emersion/go-message"
	_ "github.com/emersion/go-message/charset"
)

// Properties every rendered message must have, checked in code rather
// than trusted to golden files.

const testToken = "TOKEN-1"

var testSet = []Header{
	{"List-Unsubscribe", "<https://u.acme.example/u/" + testToken + ">, <mailto:unsubscribe+" + testToken + "@u.acme.example>"},
	{"List-Unsubscribe-Post", "List-Unsubscribe=One-Click"},
}

// fixedRand makes generated Message-IDs and boundaries reproducible.
func fixedRand() io.Reader { return rand.NewChaCha8([32]byte{'d', 'n', 'c'}) }

// entityInfo is one leaf of a message as go-message reads it.
type entityInfo struct {
	media, disp string
	ctype       string // the Content-Type field as written
	body        []byte // decoded: transfer encoding undone, text in UTF-8
}

// leavesOf reads every leaf entity with go-message, keyed by its path
// ("" for the top, "1.0" for the first part of the second part). It fails
// the test when go-message cannot read the message.
func leavesOf(t testing.TB, raw []byte) map[string]entityInfo {
	t.Helper()
	m, err := readLeaves(raw)
	if err != nil {
		t.Fatalf("go-message cannot read it: %v\n%s", err, raw)
	}
	return m
}

func readLeaves(raw []byte) (map[string]entityInfo, error) {
	e, err := message.Read(bytes.NewReader(raw))
	if err != nil && !undecodable(err) {
		return nil, err
	}
	out := map[string]entityInfo{}
	err = e.Walk(func(path []int, ent *message.Entity, err error) error {
		if err != nil && !undecodable(err) {
			return err
		}
		if ent.MultipartReader() != nil {
			return nil
		}
		media, _, _ := ent.Header.ContentType()
		disp, _, _ := ent.Header.ContentDisposition()
		b, err := io.ReadAll(ent.Body)
		if err != nil {
			return fmt.Errorf("part %v: %w", path, err)
		}
		out[pathKey(path)] = entityInfo{media: media, disp: disp, ctype: ent.Header.Get("Content-Type"), body: b}
		return nil
	})
	return out, err
}

// undecodable reports an unknown charset or transfer encoding: go-message
// then hands over the body as it is, which is what the tests compare.
func undecodable(err error) bool {
	return message.IsUnknownCharset(err) || message.IsUnknownEncoding(err)
}

func pathKey(path []int) string {
	s := make([]string, len(path))
	for i, n := range path {
		s[i] = fmt.Sprint(n)
	}
	return strings.Join(s, ".")
}

// checkWire asserts CRLF line endings only, lines within 998 octets, and
// no 8-bit byte when the input had none (a 7-bit message stays sendable
// with BODY=7BIT).
func checkWire(t testing.TB, in, out []byte) {
	t.Helper()
	if hasBareLineEnd(out) {
		t.Errorf("output holds a bare CR or LF")
	}
	if !has8bit(in) && has8bit(out) {
		t.Errorf("7-bit input became 8-bit")
	}
	for i, line := range bytes.Split(out, crlf) {
		if len(line) > maxLineOctets && !bytes.Contains(in, line) {
			t.Errorf("output line %d is %d octets", i+1, len(line))
		}
	}
}

func has8bit(b []byte) bool {
	for _, c := range b {
		if c >= 0x80 {
			return true
		}
	}
	return false
}

// checkHeaders asserts each set header appears once with its value.
func checkHeaders(t testing.TB, out []byte, set []Header) {
	t.Helper()
	e, err := message.Read(bytes.NewReader(out))
	if err != nil && e == nil {
		t.Fatalf("go-message: %v", err)
	}
	for _, h := range set {
		vals := e.Header.Values(h.Key)
		if len(vals) != 1 || vals[0] != h.Value {
			t.Errorf("header %s = %q, want exactly %q", h.Key, vals, h.Value)
		}
	}
	if n := len(e.Header.Values("Message-Id")); n != 1 {
		t.Errorf("%d Message-ID fields, want 1", n)
	}
}

// rawLeaves returns the raw bytes of every leaf of the input (a
// message/rfc822 part is a leaf), keyed like leavesOf.
func rawLeaves(t testing.TB, raw []byte) map[string][]byte {
	t.Helper()
	top, err := parseTree(raw, DefaultMaxDepth, DefaultMaxParts)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	var walk func(p *part, path string)
	walk = func(p *part, path string) {
		if len(p.children) == 0 {
			out[path] = raw[p.start:p.end]
		}
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

// checkUntouched asserts every leaf not in footed comes out with the same
// decoded body and, when it is a part of a multipart, byte-identical.
func checkUntouched(t testing.TB, in, out []byte, footed map[string]bool) {
	t.Helper()
	before, after := leavesOf(t, in), leavesOf(t, out)
	rawIn := rawLeaves(t, in)
	for path, b := range before {
		if footed[path] {
			continue
		}
		a, ok := after[path]
		if !ok || a.media != b.media || !bytes.Equal(a.body, b.body) {
			t.Errorf("part %q (%s) changed", path, b.media)
		}
		if r := rawIn[path]; path != "" && !bytes.Contains(out, r) {
			t.Errorf("part %q (%s) is not byte-identical", path, b.media)
		}
	}
}
