package lists

import (
	"archive/zip"
	"bufio"
	"bytes"
	"compress/bzip2"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"
)

// Magic numbers of the containers a list file may arrive in.
var (
	magicGzip     = []byte{0x1F, 0x8B}
	magicZip      = []byte("PK\x03\x04")
	magicZipEmpty = []byte("PK\x05\x06")
	magicBzip2    = []byte("BZh")
)

// unsupportedMagic names formats refused with a hint rather than read as
// text.
var unsupportedMagic = []struct {
	magic []byte
	what  string
}{
	{[]byte{0xFD, '7', 'z', 'X', 'Z', 0x00}, "an xz archive; decompress it first"},
	{[]byte{0x28, 0xB5, 0x2F, 0xFD}, "a zstd archive; decompress it first"},
	{[]byte{'7', 'z', 0xBC, 0xAF, 0x27, 0x1C}, "a 7-Zip archive; decompress it first"},
	{[]byte("Rar!\x1A\x07"), "a RAR archive; decompress it first"},
	{[]byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}, "an Excel workbook (.xls); save it as CSV"},
}

// openInput returns the uncompressed bytes of src: gzip, bzip2 and zip are
// recognised by their magic numbers, anything else is read as it is. The
// returned closers release what opening took (a spooled zip file).
func openInput(src io.Reader, tempDir string) (io.Reader, []io.Closer, error) {
	file, fileStart := seekableFile(src)
	br := bufio.NewReaderSize(src, bufferSize)
	head, _ := br.Peek(8)
	for _, u := range unsupportedMagic {
		if bytes.HasPrefix(head, u.magic) {
			return nil, nil, errors.New("the file is " + u.what)
		}
	}
	switch {
	case bytes.HasPrefix(head, magicGzip):
		gz, err := gzip.NewReader(br)
		if err != nil {
			return nil, nil, fmt.Errorf("reading gzip: %w", err)
		}
		return gz, []io.Closer{gz}, nil
	case isBzip2(head):
		return bzip2.NewReader(br), nil, nil
	case bytes.HasPrefix(head, magicZip), bytes.HasPrefix(head, magicZipEmpty):
		return openZip(br, file, fileStart, tempDir)
	}
	return br, nil, nil
}

// isBzip2 checks the stream header and the first block's magic, so that a
// text file starting with "BZh" is not taken for an archive.
func isBzip2(head []byte) bool {
	return len(head) >= 5 && bytes.HasPrefix(head, magicBzip2) &&
		head[3] >= '1' && head[3] <= '9' && head[4] == 0x31
}

// seekableFile returns src as a file and its current offset when it can
// be read at offsets, as a zip archive must be.
func seekableFile(src io.Reader) (*os.File, int64) {
	f, ok := src.(*os.File)
	if !ok {
		return nil, 0
	}
	off, err := f.Seek(0, io.SeekCurrent)
	if err != nil {
		return nil, 0
	}
	return f, off
}

// openZip opens the one data file of a zip archive. An archive read from a
// stream is first spooled to a temporary file: the zip directory is at its
// end. Several data files are refused rather than one picked: an import
// must not depend on the order an archiver wrote the entries in.
func openZip(br *bufio.Reader, file *os.File, start int64, tempDir string) (io.Reader, []io.Closer, error) {
	ra, size, closers, err := zipSource(br, file, start, tempDir)
	if err != nil {
		return nil, nil, err
	}
	zr, err := zip.NewReader(ra, size)
	if err != nil {
		closeAll(closers)
		return nil, nil, fmt.Errorf("reading zip: %w", err)
	}
	entry, err := zipDataFile(zr)
	if err != nil {
		closeAll(closers)
		return nil, nil, err
	}
	rc, err := entry.Open()
	if err != nil {
		closeAll(closers)
		return nil, nil, fmt.Errorf("reading %s in the zip: %w", entry.Name, err)
	}
	return rc, append([]io.Closer{rc}, closers...), nil
}

func zipSource(br *bufio.Reader, file *os.File, start int64, tempDir string) (io.ReaderAt, int64, []io.Closer, error) {
	if file != nil {
		if st, err := file.Stat(); err == nil && st.Mode().IsRegular() {
			return io.NewSectionReader(file, start, st.Size()-start), st.Size() - start, nil, nil
		}
	}
	tmp, err := os.CreateTemp(tempDir, "dncgate-list-*.zip")
	if err != nil {
		return nil, 0, nil, fmt.Errorf("spooling zip: %w", err)
	}
	spool := &tempFile{tmp}
	size, err := io.Copy(tmp, br)
	if err != nil {
		spool.Close()
		return nil, 0, nil, fmt.Errorf("spooling zip: %w", err)
	}
	return tmp, size, []io.Closer{spool}, nil
}

// tempFile removes the file when closed.
type tempFile struct{ *os.File }

func (t *tempFile) Close() error {
	return errors.Join(t.File.Close(), os.Remove(t.Name()))
}

// zipDataFile returns the archive's only data file, skipping folders and
// the metadata macOS adds.
func zipDataFile(zr *zip.Reader) (*zip.File, error) {
	var data []*zip.File
	for _, f := range zr.File {
		name := f.Name
		switch {
		case name == "[Content_Types].xml":
			return nil, errors.New("the file is an Excel workbook (.xlsx); save it as CSV")
		case f.FileInfo().IsDir(), strings.HasPrefix(name, "__MACOSX/"),
			strings.HasPrefix(path.Base(name), "._"), path.Base(name) == ".DS_Store":
			continue
		}
		data = append(data, f)
	}
	switch len(data) {
	case 0:
		return nil, errors.New("the zip holds no file")
	case 1:
		return data[0], nil
	}
	names := make([]string, 0, 3)
	for _, f := range data[:min(3, len(data))] {
		names = append(names, f.Name)
	}
	more := ""
	if len(data) > 3 {
		more = ", …"
	}
	return nil, fmt.Errorf("the zip holds %d files (%s%s); put one list in a zip", len(data), strings.Join(names, ", "), more)
}

func closeAll(cs []io.Closer) error {
	var errs []error
	for _, c := range cs {
		errs = append(errs, c.Close())
	}
	return errors.Join(errs...)
}
