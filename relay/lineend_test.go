package relay

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
)

// chunkReader hands out data in reads of the given sizes (cycling), so that
// a CR and its LF can fall in different reads.
type chunkReader struct {
	data  []byte
	sizes []byte
	i     int
}

func (c *chunkReader) Read(p []byte) (int, error) {
	if len(c.data) == 0 {
		return 0, io.EOF
	}
	n := 1
	if len(c.sizes) > 0 {
		n = int(c.sizes[c.i%len(c.sizes)]%16) + 1
		c.i++
	}
	n = min(n, len(p), len(c.data))
	copy(p, c.data[:n])
	c.data = c.data[n:]
	return n, nil
}

// hasBareLineEnd is the plain definition the scanner must agree with.
func hasBareLineEnd(b []byte) bool {
	rest := bytes.ReplaceAll(b, []byte("\r\n"), nil)
	return bytes.ContainsAny(rest, "\r\n")
}

func TestStrictReader(t *testing.T) {
	tests := map[string]bool{
		"":                 false,
		"a\r\nb\r\n":       false,
		"\r\n\r\n":         false,
		"a\nb":             true,
		"a\rb":             true,
		"a\r":              true,
		"\n":               true,
		"\r\r\n":           true,
		"a\r\n\n":          true,
		"hello\r\n.\n":     true,
		"hello\r.\r\n":     true,
		"ok\r\nok\r\nok\r": true,
	}
	for in, bad := range tests {
		for _, sizes := range []string{"", "\x00", "\x01\x02", "\x0f"} {
			_, err := io.ReadAll(&strictReader{r: &chunkReader{data: []byte(in), sizes: []byte(sizes)}})
			if got := errors.Is(err, errBareLineEnd); got != bad {
				t.Errorf("%q in chunks %q: bare = %v (%v), want %v", in, sizes, got, err, bad)
			}
		}
	}
}

func TestStrictReaderOffset(t *testing.T) {
	_, err := io.ReadAll(&strictReader{r: strings.NewReader("ab\r\ncd\nef")})
	if err == nil || !strings.Contains(err.Error(), "at byte 6") {
		t.Errorf("got %v", err)
	}
}

// FuzzData checks the line-ending scanner against the plain definition,
// whatever the read boundaries, and that it never alters what it passes.
// Seeds live in testdata/fuzz/FuzzData.
func FuzzData(f *testing.F) {
	f.Add([]byte("From: a@b\r\n\r\nbody\r\n"), []byte{3})
	f.Add([]byte("x\n.\nMAIL FROM:<a@b>\r\n"), []byte{0, 5})
	f.Fuzz(func(t *testing.T, data, sizes []byte) {
		out, err := io.ReadAll(&strictReader{r: &chunkReader{data: data, sizes: sizes}})
		bad := hasBareLineEnd(data)
		if got := errors.Is(err, errBareLineEnd); got != bad {
			t.Fatalf("%q: scanner says bare=%v (%v), definition says %v", data, got, err, bad)
		}
		if err != nil && !bad {
			t.Fatalf("unexpected error %v", err)
		}
		if !bad && !bytes.Equal(out, data) {
			t.Fatalf("data altered: %q -> %q", data, out)
		}
		if bad && !bytes.HasPrefix(data, out) {
			t.Fatalf("passed bytes that are not the input: %q", out)
		}
	})
}
