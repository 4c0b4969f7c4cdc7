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

// A NUL byte anywhere fails the read, wherever the reads split the data.
func TestStrictReaderNUL(t *testing.T) {
	for _, in := range []string{"\x00", "a\x00b\r\n", "line\r\n\x00", "\r\n\r\npart\x00\r\n"} {
		for _, sizes := range []string{"", "\x01\x02", "\x0f"} {
			_, err := io.ReadAll(&strictReader{r: &chunkReader{data: []byte(in), sizes: []byte(sizes)}})
			if !errors.Is(err, errNUL) {
				t.Errorf("%q in chunks %q: %v, want errNUL", in, sizes, err)
			}
		}
	}
	_, err := io.ReadAll(&strictReader{r: strings.NewReader("ab\r\ncd\x00")})
	if err == nil || !strings.Contains(err.Error(), "NUL byte in message at byte 6") {
		t.Errorf("got %v", err)
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
		bare, nul := hasBareLineEnd(data), bytes.IndexByte(data, 0) >= 0
		bad := bare || nul
		if (err != nil) != bad {
			t.Fatalf("%q: scanner says %v, definition says bare=%v nul=%v", data, err, bare, nul)
		}
		if bare != nul && errors.Is(err, errBareLineEnd) != bare {
			t.Fatalf("%q: scanner says %v, definition says bare=%v nul=%v", data, err, bare, nul)
		}
		if !bad && !bytes.Equal(out, data) {
			t.Fatalf("data altered: %q -> %q", data, out)
		}
		if bad && !bytes.HasPrefix(data, out) {
			t.Fatalf("passed bytes that are not the input: %q", out)
		}
	})
}
