package lists

import (
	"bytes"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
	"unicode/utf16"
)

// readRows reads all of data and returns the rows (copied) and the error
// that ended the read, nil for io.EOF.
func readRows(t *testing.T, data []byte, o ReadOptions) (*Reader, [][]string, []int, error) {
	t.Helper()
	rd, err := NewReader(bytes.NewReader(data), o)
	if err != nil {
		return nil, nil, nil, err
	}
	t.Cleanup(func() { rd.Close() })
	var rows [][]string
	var lines []int
	for row, err := range rd.All() {
		if err != nil {
			return rd, rows, lines, err
		}
		rows = append(rows, slices.Clone(row.Fields))
		lines = append(lines, row.Line)
	}
	return rd, rows, lines, nil
}

func mustRows(t *testing.T, data []byte, o ReadOptions) [][]string {
	t.Helper()
	_, rows, _, err := readRows(t, data, o)
	if err != nil {
		t.Fatalf("reading %q: %v", data, err)
	}
	return rows
}

func sameRows(a, b [][]string) bool {
	return slices.EqualFunc(a, b, slices.Equal[[]string])
}

func utf16Bytes(s string, bigEndian, bom bool) []byte {
	var out []byte
	units := utf16.Encode([]rune(s))
	if bom {
		units = append([]uint16{0xFEFF}, units...)
	}
	for _, u := range units {
		if bigEndian {
			out = append(out, byte(u>>8), byte(u))
		} else {
			out = append(out, byte(u), byte(u>>8))
		}
	}
	return out
}

func TestReaderEncodings(t *testing.T) {
	text := "name;email\r\nJérôme Dupré;jerome@bücher.de\r\n"
	want := [][]string{{"Jérôme Dupré", "jerome@bücher.de"}}
	cp1252 := []byte("name;email\r\nJ\xe9r\xf4me Dupr\xe9;jerome@b\xfccher.de\r\n")
	tests := []struct {
		name string
		data []byte
		enc  Encoding
	}{
		{"utf-8", []byte(text), EncodingUTF8},
		{"utf-8 with BOM", append([]byte("\xef\xbb\xbf"), text...), EncodingUTF8},
		{"utf-16le with BOM", utf16Bytes(text, false, true), EncodingUTF8},
		{"utf-16be with BOM", utf16Bytes(text, true, true), EncodingUTF8},
		{"utf-16le declared", utf16Bytes(text, false, false), EncodingUTF16LE},
		{"utf-16be declared, BOM too", utf16Bytes(text, true, true), EncodingUTF16BE},
		{"windows-1252", cp1252, EncodingWindows1252},
		{"latin-1", cp1252, EncodingLatin1},
	}
	for _, tt := range tests {
		rd, rows, _, err := readRows(t, tt.data, ReadOptions{Header: true, Encoding: tt.enc})
		if err != nil || !sameRows(rows, want) {
			t.Errorf("%s: rows %q, %v; want %q", tt.name, rows, err, want)
			continue
		}
		if h := rd.Header(); !slices.Equal(h, []string{"name", "email"}) {
			t.Errorf("%s: header %q; want name, email (no BOM left)", tt.name, h)
		}
	}
}

func TestReaderWindows1252Euro(t *testing.T) {
	// 0x80 is € in Windows-1252 and a C1 control in Latin-1.
	rows := mustRows(t, []byte("prix \x80\n"), ReadOptions{Encoding: EncodingWindows1252})
	if rows[0][0] != "prix €" {
		t.Errorf("got %q; want prix €", rows[0][0])
	}
}

func TestReaderEncodingErrors(t *testing.T) {
	tests := []struct {
		name string
		data []byte
		enc  Encoding
		want string
	}{
		{"invalid UTF-8", []byte("name,email\nok,a@b.fr\nJ\xe9r\xf4me,j@b.fr\n"), EncodingUTF8,
			"line 3, name: not valid UTF-8; if the file is Windows-1252 or Latin-1, declare that encoding"},
		{"BOM against declaration", []byte("\xef\xbb\xbfname,email\n"), EncodingWindows1252,
			"the file starts with a utf-8 byte-order mark but windows-1252 was declared; leave the encoding out"},
		{"UTF-16 without BOM", utf16Bytes("name,email\n", false, false), EncodingUTF8,
			"the file holds NUL bytes: it is binary, UTF-32, or UTF-16 without a byte-order mark (name it with --encoding utf-16le or --encoding utf-16be)"},
	}
	for _, tt := range tests {
		_, _, _, err := readRows(t, tt.data, ReadOptions{Header: true, Encoding: tt.enc})
		if err == nil || err.Error() != tt.want {
			t.Errorf("%s: error %v; want %q", tt.name, err, tt.want)
		}
	}
	_, _, _, err := readRows(t, []byte("a\n\xff\n"), ReadOptions{})
	var le *LineError
	if !errors.As(err, &le) || le.Line != 2 || le.Column != "column 1" || !errors.Is(err, ErrInvalidUTF8) {
		t.Errorf("invalid UTF-8 without header: %v; want a LineError on line 2, column 1", err)
	}
}

func TestParseEncoding(t *testing.T) {
	for name, want := range map[string]Encoding{"UTF-8": EncodingUTF8, "cp1252": EncodingWindows1252,
		"ISO-8859-1": EncodingLatin1, "utf-16le": EncodingUTF16LE, " utf-16be ": EncodingUTF16BE} {
		if got, err := ParseEncoding(name); err != nil || got != want {
			t.Errorf("ParseEncoding(%q) = %v, %v; want %v", name, got, err, want)
		}
	}
	if _, err := ParseEncoding("ebcdic"); err == nil || !strings.Contains(err.Error(), `"ebcdic"`) {
		t.Errorf("ParseEncoding(ebcdic) error = %v", err)
	}
}

func TestReaderDelimiters(t *testing.T) {
	want := [][]string{{"email", "phone"}, {"a@b.fr", "0612345678"}, {"c@d.fr", "0712345678"}}
	for _, d := range []string{",", ";", "\t", "|"} {
		var b strings.Builder
		for _, r := range want {
			b.WriteString(strings.Join(r, d) + "\n")
		}
		rd, rows, _, err := readRows(t, []byte(b.String()), ReadOptions{})
		if err != nil || !sameRows(rows, want) || string(rd.Delimiter()) != d {
			t.Errorf("delimiter %q: rows %q, %v, sniffed %q", d, rows, err, rd.Delimiter())
		}
		if rows := mustRows(t, []byte(b.String()), ReadOptions{Delimiter: []rune(d)[0]}); !sameRows(rows, want) {
			t.Errorf("delimiter %q given: rows %q", d, rows)
		}
	}
}

func TestReaderSniffing(t *testing.T) {
	tests := []struct {
		name, data string
		want       rune
	}{
		// A comma inside some values, semicolons between every field.
		{"semicolon beats a stray comma", "name;company;email\nDoe, John;Acme;j@acme.fr\nRoe;Beta;r@beta.fr\n", ';'},
		{"delimiter inside quotes ignored", "\"a;b\",c\n\"d;e\",f\n\"g;h\",i\n", ','},
		{"one column", "a@b.fr\nc@d.fr\n", ','},
		{"one line without newline", "a@b.fr;x", ';'},
	}
	for _, tt := range tests {
		rd, err := NewReader(strings.NewReader(tt.data), ReadOptions{})
		if err != nil || rd.Delimiter() != tt.want {
			t.Errorf("%s: sniffed %q, %v; want %q", tt.name, rd.Delimiter(), err, tt.want)
		}
	}
	if _, err := NewReader(strings.NewReader("a:b\n"), ReadOptions{Delimiter: ':'}); err == nil {
		t.Error("delimiter ':' was accepted")
	}
}

func TestReaderSingleColumn(t *testing.T) {
	rows := mustRows(t, []byte("06 12 34 56 78\r\n\r\n07 81 23 45 67"), ReadOptions{})
	want := [][]string{{"06 12 34 56 78"}, {"07 81 23 45 67"}}
	if !sameRows(rows, want) {
		t.Errorf("rows %q; want %q", rows, want)
	}
}

func TestReaderQuotes(t *testing.T) {
	data := "name,email\n\"Dupont, Jean\",jean@acme.fr\n\"Multi\nline \"\"quoted\"\"\",m@acme.fr\n\nlast,l@acme.fr\n"
	_, rows, lines, err := readRows(t, []byte(data), ReadOptions{Header: true})
	want := [][]string{{"Dupont, Jean", "jean@acme.fr"}, {"Multi\nline \"quoted\"", "m@acme.fr"}, {"last", "l@acme.fr"}}
	if err != nil || !sameRows(rows, want) {
		t.Fatalf("rows %q, %v; want %q", rows, err, want)
	}
	if !slices.Equal(lines, []int{2, 3, 6}) {
		t.Errorf("lines %v; want 2 3 6", lines)
	}
}

func TestReaderBrokenQuotes(t *testing.T) {
	tests := []struct{ name, data, want string }{
		{"bare quote", "a,b\nc,d\"e\n", `line 2: a " at byte 4 inside a field that does not start with one; quote the whole field and double the "`},
		{"text after closing quote", "a,b\n\"c\"x,d\n", `line 2: a quoted field is not closed properly near byte 3: a closing " is missing, or a " inside it is not doubled`},
		{"not closed on the last line", "a,b\nc,\"d", `line 2: a quoted field is not closed properly near byte 5: a closing " is missing, or a " inside it is not doubled`},
		{"never closed", "a,b\nc,\"d\ne,f\n", `line 2: a quoted field opened on this line is still open on line 3: a closing " is missing, or a " inside it is not doubled`},
	}
	for _, tt := range tests {
		_, rows, _, err := readRows(t, []byte(tt.data), ReadOptions{})
		if err == nil || err.Error() != tt.want {
			t.Errorf("%s: error %v; want %q", tt.name, err, tt.want)
		}
		if len(rows) != 1 {
			t.Errorf("%s: %d rows before the error; want 1", tt.name, len(rows))
		}
	}
}

func TestReaderEmpty(t *testing.T) {
	for _, data := range []string{"", "\n\n", "  \r\n\t\n"} {
		for _, header := range []bool{false, true} {
			if _, err := NewReader(strings.NewReader(data), ReadOptions{Header: header}); !errors.Is(err, ErrEmptyFile) {
				t.Errorf("%q (header %v): error %v; want ErrEmptyFile", data, header, err)
			}
		}
	}
	rd, rows, _, err := readRows(t, []byte("email\n"), ReadOptions{Header: true})
	if err != nil || len(rows) != 0 || !slices.Equal(rd.Header(), []string{"email"}) {
		t.Errorf("header only: rows %q, %v, header %q", rows, err, rd.Header())
	}
}

func TestReaderColumns(t *testing.T) {
	rd, err := NewReader(strings.NewReader(" Name , E-Mail ,Phone\nJean,j@acme.fr\n"), ReadOptions{Header: true})
	if err != nil {
		t.Fatal(err)
	}
	for spec, want := range map[string]Column{
		"e-mail": {Index: 1, Name: "E-Mail"}, "PHONE": {Index: 2, Name: "Phone"}, "1": {Index: 0, Name: "Name"},
	} {
		if c, err := rd.Column(spec); err != nil || c != want {
			t.Errorf("Column(%q) = %+v, %v; want %+v", spec, c, err, want)
		}
	}
	for spec, want := range map[string]string{
		"4":    "column 4 out of range: the header row has 3 columns",
		"0":    "column 0: positions start at 1",
		"mail": `no column "mail" in the header row (columns: Name, E-Mail, Phone)`,
		"":     "no column given",
	} {
		if _, err := rd.Column(spec); err == nil || err.Error() != want {
			t.Errorf("Column(%q) error = %v; want %q", spec, err, want)
		}
	}
	row, _ := rd.Next()
	phone, _ := rd.Column("phone")
	if _, err := row.Value(phone); err == nil || err.Error() != "line 2, Phone: missing: the line has 2 fields" {
		t.Errorf("Value(phone) error = %v", err)
	}
}

func TestReaderColumnsWithoutHeader(t *testing.T) {
	rd, err := NewReader(strings.NewReader("a,b\n"), ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rd.Column("email"); err == nil || !strings.Contains(err.Error(), "without a header row") {
		t.Errorf("Column(email) without header: %v", err)
	}
	c, err := rd.Column("5")
	if err != nil || c.Name != "column 5" {
		t.Fatalf("Column(5) = %+v, %v", c, err)
	}
	row, _ := rd.Next()
	if _, err := row.Value(c); err == nil || err.Error() != "line 1, column 5: missing: the line has 2 fields" {
		t.Errorf("Value(column 5) error = %v", err)
	}
}

func TestReaderDuplicateHeader(t *testing.T) {
	rd, err := NewReader(strings.NewReader("email,name,EMAIL\n"), ReadOptions{Header: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rd.Column("Email"); err == nil || err.Error() != `the header row names column "Email" twice (columns 1 and 3)` {
		t.Errorf("duplicate header: %v", err)
	}
}

func TestReaderLineCap(t *testing.T) {
	long := "ok\n" + strings.Repeat("x", 200) + "\nafter\n"
	_, rows, _, err := readRows(t, []byte(long), ReadOptions{MaxLineLength: 100})
	var le *LineError
	if !errors.As(err, &le) || le.Line != 2 || err.Error() != "line 2: line longer than 100 bytes" {
		t.Errorf("long line: %v; want line 2 longer than 100 bytes", err)
	}
	if len(rows) > 1 {
		t.Errorf("rows %q read past the long line", rows)
	}
}

func TestReaderUnclosedQuoteBoundsMemory(t *testing.T) {
	// A quote never closed would make encoding/csv read the whole rest of
	// the file into one record.
	var b strings.Builder
	b.WriteString("a\nb\n\"c\n")
	for b.Len() < 4*bufferSize {
		b.WriteString("0612345678\n")
	}
	_, _, _, err := readRows(t, []byte(b.String()), ReadOptions{MaxLineLength: 1000})
	want := "line 3: the record runs past 1000 bytes over several lines: a quoted field is probably not closed"
	if err == nil || err.Error() != want {
		t.Errorf("error %v; want %q", err, want)
	}
}

func TestReaderBareCR(t *testing.T) {
	if _, err := NewReader(strings.NewReader("a@b.fr\rc@d.fr\re@f.fr\r"), ReadOptions{}); err == nil || !strings.Contains(err.Error(), "bare CR") {
		t.Errorf("CR line ends: %v", err)
	}
}

func TestReaderNextAfterError(t *testing.T) {
	rd, err := NewReader(strings.NewReader("a\n\"b\n"), ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	rd.Next()
	_, err1 := rd.Next()
	_, err2 := rd.Next()
	if err1 == nil || err1 != err2 {
		t.Errorf("errors %v then %v; want the same error twice", err1, err2)
	}
	if _, err := rd.Next(); errors.Is(err, io.EOF) {
		t.Error("io.EOF after an error")
	}
}

func TestParseDelimiter(t *testing.T) {
	for in, want := range map[string]rune{",": ',', ";": ';', "\t": '\t', `\t`: '\t', "|": '|',
		"comma": ',', " Semicolon ": ';', "TAB": '\t', "pipe": '|'} {
		if got, err := ParseDelimiter(in); err != nil || got != want {
			t.Errorf("ParseDelimiter(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", ":", ",,", "space"} {
		if _, err := ParseDelimiter(in); err == nil {
			t.Errorf("ParseDelimiter(%q) accepted", in)
		}
	}
}
