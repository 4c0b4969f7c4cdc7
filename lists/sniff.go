package lists

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
)

// sniffLines is how many lines the delimiter is guessed from.
const sniffLines = 20

// delimiterCandidates are the delimiters sniffed, in order of preference
// when the evidence ties.
var delimiterCandidates = []byte{',', ';', '\t', '|'}

// delimiterNames are the names ParseDelimiter reads besides the
// characters themselves.
var delimiterNames = map[string]rune{
	"comma": ',', "semicolon": ';', "tab": '\t', `\t`: '\t', "pipe": '|',
}

// ParseDelimiter reads a delimiter given on a command line: the character
// itself (",", ";", "|", a tab or `\t`) or its name (comma, semicolon, tab,
// pipe).
func ParseDelimiter(s string) (rune, error) {
	if d, ok := delimiterNames[strings.ToLower(strings.TrimSpace(s))]; ok {
		return d, nil
	}
	if len(s) == 1 && bytes.IndexByte(delimiterCandidates, s[0]) >= 0 {
		return rune(s[0]), nil
	}
	return 0, fmt.Errorf("unknown delimiter %q; want comma, semicolon, tab or pipe", s)
}

// ErrEmptyFile is returned by NewReader for input with no text in it.
var ErrEmptyFile = errors.New("the file is empty")

// checkSample refuses what cannot be a text file read line by line. atEOF
// says the sample is the whole file.
func checkSample(sample []byte, atEOF bool) error {
	switch {
	case atEOF && len(bytes.TrimSpace(sample)) == 0:
		return ErrEmptyFile
	case bytes.IndexByte(sample, 0) >= 0:
		return errors.New("the file holds NUL bytes: it is binary, UTF-32, or UTF-16 without a byte-order mark (name it with --encoding utf-16le or --encoding utf-16be)")
	case bytes.IndexByte(sample, '\n') < 0 && bytes.Count(bytes.TrimRight(sample, "\r"), []byte{'\r'}) > 0:
		return errors.New("lines end with a bare CR (old Mac format); convert the line ends to LF or CRLF")
	}
	return nil
}

// sniffDelimiter guesses the delimiter from the first lines of sample: a
// candidate found the same number of times on every line (outside quotes)
// wins over one that varies, then the one found most often. A file where
// none occurs has one column; ',' is returned for it.
func sniffDelimiter(sample []byte, atEOF bool) rune {
	lines := sampleLines(sample, atEOF)
	best, bestScore := byte(','), [2]int{}
	for _, d := range delimiterCandidates {
		if score := delimiterScore(lines, d); score[0] > bestScore[0] ||
			score[0] == bestScore[0] && score[1] > bestScore[1] {
			best, bestScore = d, score
		}
	}
	return rune(best)
}

// delimiterScore ranks d: first whether every line has it the same
// non-zero number of times, then how often it occurs.
func delimiterScore(lines [][]byte, d byte) [2]int {
	consistent, total, first := 1, 0, -1
	for _, l := range lines {
		n := countOutsideQuotes(l, d)
		if first < 0 {
			first = n
		}
		if n != first || n == 0 {
			consistent = 0
		}
		total += n
	}
	if total == 0 {
		return [2]int{}
	}
	return [2]int{consistent, total}
}

func countOutsideQuotes(line []byte, d byte) int {
	n, quoted := 0, false
	for _, c := range line {
		switch {
		case c == '"':
			quoted = !quoted
		case c == d && !quoted:
			n++
		}
	}
	return n
}

// sampleLines returns the first complete non-blank lines of sample; the
// last one counts only when the sample is the whole file.
func sampleLines(sample []byte, atEOF bool) [][]byte {
	var lines [][]byte
	for len(sample) > 0 && len(lines) < sniffLines {
		nl := bytes.IndexByte(sample, '\n')
		if nl < 0 && !atEOF {
			break
		}
		line := sample
		if nl >= 0 {
			line, sample = sample[:nl], sample[nl+1:]
		} else {
			sample = nil
		}
		if len(bytes.TrimSpace(line)) > 0 {
			lines = append(lines, line)
		}
	}
	return lines
}
