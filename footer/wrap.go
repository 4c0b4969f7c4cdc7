package footer

import (
	"strings"
	"unicode/utf8"
)

// wrapWidth keeps footer lines within the 78 characters RFC 5322 §2.1.1
// recommends, leaving room for quoting in replies.
const wrapWidth = 76

// wrap breaks each line of s at spaces so no line passes width characters,
// except where one word (a long URL) is longer on its own; URLs are never
// split, so they stay clickable. Only ASCII spaces break: a no-break space
// (as French puts before ":") keeps its neighbours together.
func wrap(s string, width int) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = wrapLine(l, width)
	}
	return strings.Join(lines, "\n")
}

func wrapLine(line string, width int) string {
	words := strings.Split(line, " ")
	var b strings.Builder
	col := 0
	for _, w := range words {
		if w == "" {
			continue
		}
		n := utf8.RuneCountInString(w)
		switch {
		case col == 0:
		case col+1+n > width:
			b.WriteByte('\n')
			col = 0
		default:
			b.WriteByte(' ')
			col++
		}
		b.WriteString(w)
		col += n
	}
	return b.String()
}
