package lists

import (
	"archive/zip"
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const phonesCSV = "phone\n06 12 34 56 78\n"

var phonesRows = [][]string{{"06 12 34 56 78"}}

func gzipped(t *testing.T, s string) []byte {
	t.Helper()
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	w.Write([]byte(s))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// zipped builds an archive of the named entries; a name ending in '/' is
// a folder.
func zipped(t *testing.T, entries ...[2]string) []byte {
	t.Helper()
	var b bytes.Buffer
	w := zip.NewWriter(&b)
	for _, e := range entries {
		f, err := w.Create(e[0])
		if err != nil {
			t.Fatal(err)
		}
		f.Write([]byte(e[1]))
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestReaderGzip(t *testing.T) {
	rows := mustRows(t, gzipped(t, phonesCSV), ReadOptions{Header: true})
	if !sameRows(rows, phonesRows) {
		t.Errorf("rows %q; want %q", rows, phonesRows)
	}
	// UTF-16 inside gzip: the BOM is looked for after decompression.
	rows = mustRows(t, gzipped(t, string(utf16Bytes(phonesCSV, false, true))), ReadOptions{Header: true})
	if !sameRows(rows, phonesRows) {
		t.Errorf("utf-16 in gzip: rows %q; want %q", rows, phonesRows)
	}
}

func TestReaderBzip2(t *testing.T) {
	data, err := os.ReadFile("testdata/phones.csv.bz2")
	if err != nil {
		t.Fatal(err)
	}
	if rows := mustRows(t, data, ReadOptions{Header: true}); !sameRows(rows, phonesRows) {
		t.Errorf("rows %q; want %q", rows, phonesRows)
	}
	// Text that merely starts with "BZh" is text.
	if rows := mustRows(t, []byte("BZh9 is a name\n"), ReadOptions{}); rows[0][0] != "BZh9 is a name" {
		t.Errorf("rows %q", rows)
	}
}

func TestReaderZip(t *testing.T) {
	data := zipped(t, [2]string{"export/", ""}, [2]string{"__MACOSX/export/._phones.csv", "junk"},
		[2]string{".DS_Store", "junk"}, [2]string{"export/phones.csv", phonesCSV})
	// From a stream the archive is spooled to a temporary file.
	tmp := t.TempDir()
	rd, rows, _, err := readRows(t, data, ReadOptions{Header: true, TempDir: tmp})
	if err != nil || !sameRows(rows, phonesRows) {
		t.Errorf("stream: rows %q, %v; want %q", rows, err, phonesRows)
	}
	if left, _ := os.ReadDir(tmp); len(left) != 1 {
		t.Errorf("spooled files while reading: %v; want one", left)
	}
	if err := rd.Close(); err != nil {
		t.Fatal(err)
	}
	if left, _ := os.ReadDir(tmp); len(left) != 0 {
		t.Errorf("spooled files left after Close: %v", left)
	}
	// From a file it is read in place, from the file's current offset.
	path := filepath.Join(t.TempDir(), "phones.zip")
	if err := os.WriteFile(path, append([]byte("skipped"), data...), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	f.Seek(int64(len("skipped")), 0)
	rd, err = NewReader(f, ReadOptions{Header: true, TempDir: filepath.Join(tmp, "absent")})
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	if row, err := rd.Next(); err != nil || row.Fields[0] != phonesRows[0][0] {
		t.Errorf("file: row %q, %v", row.Fields, err)
	}
}

func TestReaderContainerErrors(t *testing.T) {
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"two files in a zip", zipped(t, [2]string{"a.csv", "x"}, [2]string{"b.csv", "y"}),
			"the zip holds 2 files (a.csv, b.csv); put one list in a zip"},
		{"folders only", zipped(t, [2]string{"a/", ""}), "the zip holds no file"},
		{"xlsx", zipped(t, [2]string{"[Content_Types].xml", "<x/>"}, [2]string{"xl/workbook.xml", "<x/>"}),
			"the file is an Excel workbook (.xlsx); save it as CSV"},
		{"xls", []byte("\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1rest"), "the file is an Excel workbook (.xls); save it as CSV"},
		{"xz", []byte("\xfd7zXZ\x00rest"), "the file is an xz archive; decompress it first"},
		{"zip in a zip's clothing", []byte("PK\x03\x04 not really"), "reading zip: zip: not a valid zip file"},
	}
	for _, tt := range tests {
		_, err := NewReader(bytes.NewReader(tt.data), ReadOptions{TempDir: t.TempDir()})
		if err == nil || err.Error() != tt.want {
			t.Errorf("%s: error %v; want %q", tt.name, err, tt.want)
		}
	}
}

func TestReaderTruncatedGzip(t *testing.T) {
	var b strings.Builder
	for i := range 20000 {
		b.WriteString("06123" + strings.Repeat("4", i%5) + "\n")
	}
	data := gzipped(t, b.String())
	_, rows, _, err := readRows(t, data[:len(data)/2], ReadOptions{})
	if err == nil || !strings.Contains(err.Error(), "reading the file: unexpected EOF") {
		t.Errorf("truncated gzip: %v after %d rows; want unexpected EOF", err, len(rows))
	}
}

func TestReaderCorruptGzip(t *testing.T) {
	data := gzipped(t, phonesCSV)
	data[len(data)-5] ^= 0xFF // the stored length no longer matches
	_, _, _, err := readRows(t, data, ReadOptions{})
	if err == nil || !strings.Contains(err.Error(), "reading the file: gzip: invalid checksum") {
		t.Errorf("corrupt gzip: %v", err)
	}
}
