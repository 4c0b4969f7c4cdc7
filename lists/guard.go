package lists

import (
	"bytes"
	"fmt"
	"io"
)

// lineGuard sits under the CSV parser and stops the read when a line, or
// a record spanning lines, grows past the cap: encoding/csv would
// otherwise keep a whole file in memory when a quote is never closed.
type lineGuard struct {
	r       io.Reader
	maxLine int
	maxRead int // bytes read since the last record before that record is too long
	line    int // lines ended so far
	lineLen int // bytes of the current line so far
	read    int // bytes read since the last record
	recLine int // line the current record starts on
	err     error
}

func newLineGuard(r io.Reader, maxLine int) *lineGuard {
	// The parser reads ahead by up to a buffer, so a record's bytes are
	// at most the bytes read since the previous record plus one buffer.
	return &lineGuard{r: r, maxLine: maxLine, maxRead: maxLine + bufferSize, recLine: 1}
}

// recordDone tells the guard a record ended and the next starts on line.
func (g *lineGuard) recordDone(line int) {
	g.read, g.recLine = 0, line
}

func (g *lineGuard) Read(p []byte) (int, error) {
	if g.err != nil {
		return 0, g.err
	}
	n, err := g.r.Read(p)
	if g.err = g.scan(p[:n]); g.err != nil {
		return 0, g.err
	}
	return n, err
}

func (g *lineGuard) scan(b []byte) error {
	g.read += len(b)
	for {
		nl := bytes.IndexByte(b, '\n')
		if nl < 0 {
			g.lineLen += len(b)
			break
		}
		if g.lineLen += nl; g.lineLen > g.maxLine {
			return g.tooLong()
		}
		g.line++
		g.lineLen = 0
		b = b[nl+1:]
	}
	if g.lineLen > g.maxLine {
		return g.tooLong()
	}
	if g.read > g.maxRead {
		return &LineError{Line: g.recLine, Err: fmt.Errorf("the record runs past %d bytes over several lines: a quoted field is probably not closed", g.maxLine)}
	}
	return nil
}

func (g *lineGuard) tooLong() error {
	return &LineError{Line: g.line + 1, Err: fmt.Errorf("line longer than %d bytes", g.maxLine)}
}
