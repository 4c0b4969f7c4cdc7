package lists

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"strings"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"
)

// Encoding is the text encoding of a file without a byte-order mark. A
// byte-order mark, when present, decides: UTF-8, UTF-16 LE or UTF-16 BE.
type Encoding uint8

// The encodings CRM and spreadsheet exports come in.
const (
	EncodingUTF8        Encoding = iota // the default
	EncodingWindows1252                 // Excel's "CSV" on western Windows
	EncodingLatin1                      // ISO 8859-1
	EncodingUTF16LE                     // Excel's "Unicode text" without its BOM
	EncodingUTF16BE
)

var encodingNames = map[string]Encoding{
	"utf-8": EncodingUTF8, "utf8": EncodingUTF8,
	"windows-1252": EncodingWindows1252, "cp1252": EncodingWindows1252,
	"latin-1": EncodingLatin1, "latin1": EncodingLatin1, "iso-8859-1": EncodingLatin1,
	"utf-16le": EncodingUTF16LE, "utf-16be": EncodingUTF16BE,
}

// ParseEncoding reads an encoding by name: utf-8, windows-1252 (cp1252),
// latin-1 (iso-8859-1), utf-16le or utf-16be.
func ParseEncoding(name string) (Encoding, error) {
	if e, ok := encodingNames[strings.ToLower(strings.TrimSpace(name))]; ok {
		return e, nil
	}
	return 0, fmt.Errorf("unknown encoding %q; want utf-8, windows-1252, latin-1, utf-16le or utf-16be", name)
}

func (e Encoding) String() string {
	switch e {
	case EncodingUTF8:
		return "utf-8"
	case EncodingWindows1252:
		return "windows-1252"
	case EncodingLatin1:
		return "latin-1"
	case EncodingUTF16LE:
		return "utf-16le"
	case EncodingUTF16BE:
		return "utf-16be"
	}
	return fmt.Sprintf("encoding(%d)", uint8(e))
}

func (e Encoding) decoder() *encoding.Decoder {
	switch e {
	case EncodingWindows1252:
		return charmap.Windows1252.NewDecoder()
	case EncodingLatin1:
		return charmap.ISO8859_1.NewDecoder()
	case EncodingUTF16LE:
		return unicode.UTF16(unicode.LittleEndian, unicode.IgnoreBOM).NewDecoder()
	case EncodingUTF16BE:
		return unicode.UTF16(unicode.BigEndian, unicode.IgnoreBOM).NewDecoder()
	}
	return nil
}

// Byte-order marks (Unicode §23.8).
var (
	bomUTF8    = []byte{0xEF, 0xBB, 0xBF}
	bomUTF16LE = []byte{0xFF, 0xFE}
	bomUTF16BE = []byte{0xFE, 0xFF}
	bomUTF32LE = []byte{0xFF, 0xFE, 0x00, 0x00}
	bomUTF32BE = []byte{0x00, 0x00, 0xFE, 0xFF}
)

// decodeText consumes a byte-order mark from br and returns the UTF-8 text
// of the stream, and whether that text still needs a UTF-8 check (it does
// when the bytes are passed through undecoded).
func decodeText(br *bufio.Reader, declared Encoding) (io.Reader, bool, error) {
	head, _ := br.Peek(len(bomUTF32LE))
	found, bomLen := detectBOM(head)
	if found == nil {
		if d := declared.decoder(); d != nil {
			return transform.NewReader(br, d), false, nil
		}
		return br, true, nil
	}
	if *found != declared && declared != EncodingUTF8 {
		return nil, false, fmt.Errorf("the file starts with a %s byte-order mark but %s was declared; leave the encoding out", found, declared)
	}
	if _, err := br.Discard(bomLen); err != nil {
		return nil, false, err
	}
	if d := found.decoder(); d != nil {
		return transform.NewReader(br, d), false, nil
	}
	return br, true, nil
}

// detectBOM returns the encoding a byte-order mark at the start of head
// stands for and the mark's length. A UTF-32 mark counts as none, so that
// it is not taken for UTF-16: the sniffer then refuses the NUL bytes.
func detectBOM(head []byte) (*Encoding, int) {
	enc := func(e Encoding) *Encoding { return &e }
	switch {
	case bytes.HasPrefix(head, bomUTF32LE), bytes.HasPrefix(head, bomUTF32BE):
		return nil, 0
	case bytes.HasPrefix(head, bomUTF8):
		return enc(EncodingUTF8), len(bomUTF8)
	case bytes.HasPrefix(head, bomUTF16LE):
		return enc(EncodingUTF16LE), len(bomUTF16LE)
	case bytes.HasPrefix(head, bomUTF16BE):
		return enc(EncodingUTF16BE), len(bomUTF16BE)
	}
	return nil, 0
}
