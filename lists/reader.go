package lists

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"iter"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

const (
	// DefaultMaxLineLength is the line length cap when ReadOptions sets
	// none: far above any real list or CRM row, far below memory trouble.
	DefaultMaxLineLength = 64 << 10
	// bufferSize is the read buffer of each layer; the delimiter is
	// sniffed from its first fill.
	bufferSize = 64 << 10
)

// ReadOptions says how to read a list or contact file.
type ReadOptions struct {
	// Delimiter separates fields: ',', ';', '\t' or '|'. Zero sniffs it
	// from the first lines.
	Delimiter rune
	// Header says the first row names the columns.
	Header bool
	// Encoding is the text encoding when the file has no byte-order mark.
	Encoding Encoding
	// MaxLineLength caps a line, and a record spanning lines, in bytes.
	// Zero means DefaultMaxLineLength.
	MaxLineLength int
	// TempDir is where a zip archive read from a stream is spooled. Empty
	// means the system's temporary folder.
	TempDir string
}

// Reader reads a list or contact file row by row with constant memory.
// The input may be plain, gzip, bzip2 or a zip archive holding one file;
// see ReadOptions for the rest.
type Reader struct {
	csv       *csv.Reader
	guard     *lineGuard
	closers   []io.Closer
	header    []string
	delimiter rune
	checkUTF8 bool
	lastLine  int // line the last row read ends on
	err       error
}

// Row is one record of the file.
type Row struct {
	Line   int      // 1-based line the row starts on
	Fields []string // valid until the next call to Next
}

// LineError is an error about one line of the file, and the column when
// one is concerned.
type LineError struct {
	Line   int
	Column string // a header name or "column 3"; empty when not about one field
	Err    error
}

func (e *LineError) Error() string {
	if e.Column != "" {
		return fmt.Sprintf("line %d, %s: %v", e.Line, e.Column, e.Err)
	}
	return fmt.Sprintf("line %d: %v", e.Line, e.Err)
}

func (e *LineError) Unwrap() error { return e.Err }

// ErrInvalidUTF8 is wrapped in the LineError for a UTF-8 file holding bytes
// that are not UTF-8.
var ErrInvalidUTF8 = errors.New("not valid UTF-8; if the file is Windows-1252 or Latin-1, declare that encoding")

// NewReader prepares to read r. It detects compression and byte-order
// mark, sniffs the delimiter unless given, and reads the header row when
// o.Header is set. It returns ErrEmptyFile for input without text. Close
// the Reader when done.
func NewReader(r io.Reader, o ReadOptions) (*Reader, error) {
	if o.MaxLineLength <= 0 {
		o.MaxLineLength = DefaultMaxLineLength
	}
	if o.Delimiter != 0 && !slices.Contains(delimiterCandidates, byte(o.Delimiter)) {
		return nil, fmt.Errorf("delimiter %q not supported; want comma, semicolon, tab or pipe", o.Delimiter)
	}
	rd := &Reader{}
	if err := rd.open(r, o); err != nil {
		rd.Close()
		return nil, err
	}
	return rd, nil
}

func (rd *Reader) open(r io.Reader, o ReadOptions) error {
	raw, closers, err := openInput(r, o.TempDir)
	rd.closers = closers
	if err != nil {
		return err
	}
	text, check, err := decodeText(asBuffered(raw), o.Encoding)
	if err != nil {
		return err
	}
	rd.guard = newLineGuard(text, o.MaxLineLength)
	buf := bufio.NewReaderSize(rd.guard, bufferSize)
	sample, err := buf.Peek(bufferSize)
	atEOF := errors.Is(err, io.EOF)
	var le *LineError
	switch {
	case errors.As(err, &le):
		return le
	case err != nil && !atEOF:
		return fmt.Errorf("reading the file: %w", err)
	}
	if err := checkSample(sample, atEOF); err != nil {
		return err
	}
	rd.delimiter = o.Delimiter
	if rd.delimiter == 0 {
		rd.delimiter = sniffDelimiter(sample, atEOF)
	}
	rd.checkUTF8 = check
	rd.csv = csv.NewReader(buf)
	rd.csv.Comma = rd.delimiter
	rd.csv.FieldsPerRecord = -1
	rd.csv.ReuseRecord = true
	if o.Header {
		return rd.readHeader()
	}
	return nil
}

func asBuffered(r io.Reader) *bufio.Reader {
	if br, ok := r.(*bufio.Reader); ok {
		return br
	}
	return bufio.NewReaderSize(r, bufferSize)
}

func (rd *Reader) readHeader() error {
	row, err := rd.Next()
	if errors.Is(err, io.EOF) {
		return ErrEmptyFile
	}
	if err != nil {
		return err
	}
	rd.header = make([]string, len(row.Fields))
	for i, f := range row.Fields {
		rd.header[i] = strings.TrimSpace(f)
	}
	return nil
}

// Next returns the next row, or io.EOF after the last. Any other error
// names the line and is final: later calls return it again.
func (rd *Reader) Next() (Row, error) {
	if rd.err != nil {
		return Row{}, rd.err
	}
	rec, err := rd.csv.Read()
	if err != nil {
		rd.err = rd.readError(err)
		return Row{}, rd.err
	}
	line, _ := rd.csv.FieldPos(0)
	last, _ := rd.csv.FieldPos(len(rec) - 1)
	rd.lastLine = last + strings.Count(rec[len(rec)-1], "\n")
	rd.guard.recordDone(rd.lastLine + 1)
	if rd.checkUTF8 {
		for i, f := range rec {
			if !utf8.ValidString(f) {
				rd.err = &LineError{Line: line, Column: rd.columnName(i), Err: ErrInvalidUTF8}
				return Row{}, rd.err
			}
		}
	}
	return Row{Line: line, Fields: rec}, nil
}

// All returns the rows for a range loop. After the last row, a read error
// other than io.EOF is yielded with a zero Row, and the loop ends.
func (rd *Reader) All() iter.Seq2[Row, error] {
	return func(yield func(Row, error) bool) {
		for {
			row, err := rd.Next()
			if errors.Is(err, io.EOF) {
				return
			}
			if !yield(row, err) || err != nil {
				return
			}
		}
	}
}

// readError turns what the layers below return into an error naming the
// line.
func (rd *Reader) readError(err error) error {
	var le *LineError
	var pe *csv.ParseError
	switch {
	case errors.Is(err, io.EOF):
		return io.EOF
	case errors.As(err, &le):
		return le
	case errors.As(err, &pe) && errors.Is(pe.Err, csv.ErrQuote) && pe.StartLine != pe.Line:
		return &LineError{Line: pe.StartLine, Err: fmt.Errorf(`a quoted field opened on this line is still open on line %d: a closing " is missing, or a " inside it is not doubled`, pe.Line)}
	case errors.As(err, &pe):
		return &LineError{Line: pe.Line, Err: quoteProblem(pe)}
	}
	return &LineError{Line: rd.lastLine + 1, Err: fmt.Errorf("reading the file: %w", err)}
}

func quoteProblem(pe *csv.ParseError) error {
	switch {
	case errors.Is(pe.Err, csv.ErrBareQuote):
		return fmt.Errorf(`a " at byte %d inside a field that does not start with one; quote the whole field and double the "`, pe.Column)
	case errors.Is(pe.Err, csv.ErrQuote):
		return fmt.Errorf(`a quoted field is not closed properly near byte %d: a closing " is missing, or a " inside it is not doubled`, pe.Column)
	}
	return pe.Err
}

// Header returns the column names of the header row, or nil when the
// file is read without one.
func (rd *Reader) Header() []string { return rd.header }

// Delimiter returns the delimiter in use, given or sniffed.
func (rd *Reader) Delimiter() rune { return rd.delimiter }

// Close releases what reading took: decompressors, a spooled archive.
func (rd *Reader) Close() error {
	cs := rd.closers
	rd.closers = nil
	return closeAll(cs)
}

// Column is a column of the file picked by header name or position.
type Column struct {
	Index int    // 0-based
	Name  string // the header name, or "column N" without a header
}

// Column picks a column by its header name (case-insensitive) or by its
// 1-based position ("3").
func (rd *Reader) Column(spec string) (Column, error) {
	spec = strings.TrimSpace(spec)
	if n, err := strconv.Atoi(spec); err == nil {
		return rd.columnAt(n)
	}
	if spec == "" {
		return Column{}, errors.New("no column given")
	}
	if rd.header == nil {
		return Column{}, fmt.Errorf("column %q is a name but the file is read without a header row; give its position (1, 2, …)", spec)
	}
	found := -1
	for i, h := range rd.header {
		if !strings.EqualFold(h, spec) {
			continue
		}
		if found >= 0 {
			return Column{}, fmt.Errorf("the header row names column %q twice (columns %d and %d)", spec, found+1, i+1)
		}
		found = i
	}
	if found < 0 {
		return Column{}, fmt.Errorf("no column %q in the header row (%s)", spec, summariseHeader(rd.header))
	}
	return Column{Index: found, Name: rd.header[found]}, nil
}

func (rd *Reader) columnAt(n int) (Column, error) {
	switch {
	case n < 1:
		return Column{}, fmt.Errorf("column %d: positions start at 1", n)
	case rd.header != nil && n > len(rd.header):
		return Column{}, fmt.Errorf("column %d out of range: the header row has %d columns", n, len(rd.header))
	}
	return Column{Index: n - 1, Name: rd.columnName(n - 1)}, nil
}

func (rd *Reader) columnName(i int) string {
	if i < len(rd.header) && rd.header[i] != "" {
		return rd.header[i]
	}
	return "column " + strconv.Itoa(i+1)
}

// maxHeaderNames is how many names an error message lists.
const maxHeaderNames = 8

func summariseHeader(h []string) string {
	names := h[:min(len(h), maxHeaderNames)]
	s := "columns: " + strings.Join(names, ", ")
	if len(h) > maxHeaderNames {
		s += ", …"
	}
	return s
}

// Value returns the field of column c, or a LineError when the row is too
// short to have it.
func (row Row) Value(c Column) (string, error) {
	if c.Index >= len(row.Fields) {
		return "", &LineError{Line: row.Line, Column: c.Name,
			Err: fmt.Errorf("missing: the line has %d fields", len(row.Fields))}
	}
	return row.Fields[c.Index], nil
}
