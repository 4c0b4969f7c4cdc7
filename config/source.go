package config

import (
	"strconv"
	"strings"
)

// source remembers the line of every key a config file wrote, by path
// ("limits.idle_timeout", "listener[1].trusted[0].network"), so that
// problems found after decoding can still point into the file. toml's
// MetaData keeps positions only privately and, for arrays of tables, only
// the last table's, so the file text is scanned once here.
type source struct {
	file     string
	lines    map[string]int
	flagKeys []string // paths whose values came from the command line
}

// line returns the line of path, or of its nearest written parent (keys
// inside inline tables are not tracked), or 0.
func (s *source) line(path string) int {
	if s == nil {
		return 0
	}
	for p := path; p != ""; p = parentPath(p) {
		if n, ok := s.lines[p]; ok {
			return n
		}
	}
	return 0
}

// fromFlag reports whether path lies under a key set on the command line.
func (s *source) fromFlag(path string) bool {
	if s == nil {
		return false
	}
	for _, k := range s.flagKeys {
		if under(path, k) {
			return true
		}
	}
	return false
}

// under reports whether path is prefix or one of its children.
func under(path, prefix string) bool {
	return path == prefix || strings.HasPrefix(path, prefix+".") || strings.HasPrefix(path, prefix+"[")
}

func parentPath(p string) string {
	i := strings.LastIndexAny(p, ".[")
	if i < 0 {
		return ""
	}
	return p[:i]
}

// scanner walks a TOML text line by line, tracking the current table.
type scanner struct {
	lines   map[string]int
	table   string         // resolved path of the current table
	arrays  map[string]int // resolved array-of-tables path → last index
	inMulti string         // closing delimiter of a multi-line string
	depth   int            // open brackets of a multi-line array value
}

// scanLines maps each key path of a TOML text to the line it is on.
func scanLines(text string) map[string]int {
	sc := &scanner{lines: map[string]int{}, arrays: map[string]int{}}
	for i, l := range strings.Split(text, "\n") {
		sc.scanLine(i+1, strings.TrimSpace(l))
	}
	return sc.lines
}

func (sc *scanner) scanLine(n int, l string) {
	switch {
	case sc.inMulti != "":
		if strings.Contains(l, sc.inMulti) {
			sc.inMulti = ""
		}
	case sc.depth > 0:
		sc.depth += bracketDepth(l)
	case l == "" || l[0] == '#':
	case strings.HasPrefix(l, "[["):
		sc.header(n, strings.TrimPrefix(l, "[["), "]]", true)
	case l[0] == '[':
		sc.header(n, l[1:], "]", false)
	default:
		sc.keyValue(n, l)
	}
}

// header handles "[a.b]" and "[[a.b]]"; each [[a.b]] opens the next index.
func (sc *scanner) header(n int, rest, end string, array bool) {
	i := strings.Index(rest, end)
	if i < 0 {
		return
	}
	parts := splitKey(rest[:i])
	path := sc.resolve(parts[:len(parts)-1]) + joinKey("", parts[len(parts)-1:])
	if array {
		idx := 0
		if last, ok := sc.arrays[path]; ok {
			idx = last + 1
		}
		sc.arrays[path] = idx
		sc.record(path, n)
		path += "[" + strconv.Itoa(idx) + "]"
	}
	sc.table = path
	sc.record(path, n)
}

// resolve turns header key parts into a path, adding the current index of
// every array of tables on the way ("listener" → "listener[1]").
func (sc *scanner) resolve(parts []string) string {
	path := ""
	for _, p := range parts {
		path = joinKey(path, []string{p})
		if idx, ok := sc.arrays[path]; ok {
			path += "[" + strconv.Itoa(idx) + "]"
		}
	}
	if path != "" {
		path += "."
	}
	return path
}

func (sc *scanner) keyValue(n int, l string) {
	i := indexOutsideQuotes(l, '=')
	if i < 0 {
		return
	}
	path := joinKey(sc.table, splitKey(l[:i]))
	sc.record(path, n)
	value := strings.TrimSpace(l[i+1:])
	for _, q := range []string{`"""`, `'''`} {
		if strings.HasPrefix(value, q) && !strings.Contains(value[len(q):], q) {
			sc.inMulti = q
		}
	}
	sc.depth = bracketDepth(value)
}

func (sc *scanner) record(path string, n int) {
	if _, ok := sc.lines[path]; !ok {
		sc.lines[path] = n
	}
}

// splitKey splits a dotted TOML key, honouring quoted parts.
func splitKey(k string) []string {
	var parts []string
	for {
		k = strings.TrimSpace(k)
		i := indexOutsideQuotes(k, '.')
		if i < 0 {
			return append(parts, unquote(k))
		}
		parts = append(parts, unquote(strings.TrimSpace(k[:i])))
		k = k[i+1:]
	}
}

// joinKey appends key parts to a path, quoting those that are not bare
// TOML keys so that a path names one key only.
func joinKey(prefix string, parts []string) string {
	for _, p := range parts {
		if prefix != "" && !strings.HasSuffix(prefix, ".") {
			prefix += "."
		}
		prefix += quoteKey(p)
	}
	return prefix
}

func quoteKey(k string) string {
	bare := k != ""
	for _, r := range k {
		if !(r == '_' || r == '-' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			bare = false
		}
	}
	if bare {
		return k
	}
	return strconv.Quote(k)
}

func unquote(s string) string {
	if len(s) >= 2 && (s[0] == '"' || s[0] == '\'') && s[len(s)-1] == s[0] {
		return s[1 : len(s)-1]
	}
	return s
}

// indexOutsideQuotes finds c outside "…" and '…', or -1.
func indexOutsideQuotes(s string, c byte) int {
	var quote byte
	for i := 0; i < len(s); i++ {
		switch {
		case quote != 0 && s[i] == '\\' && quote == '"':
			i++
		case quote != 0 && s[i] == quote:
			quote = 0
		case quote != 0:
		case s[i] == '"' || s[i] == '\'':
			quote = s[i]
		case s[i] == c:
			return i
		}
	}
	return -1
}

// bracketDepth counts [ minus ] outside strings and comments.
func bracketDepth(s string) int {
	d := 0
	var quote byte
	for i := 0; i < len(s); i++ {
		switch {
		case quote != 0 && s[i] == '\\' && quote == '"':
			i++
		case quote != 0 && s[i] == quote:
			quote = 0
		case quote != 0:
		case s[i] == '"' || s[i] == '\'':
			quote = s[i]
		case s[i] == '#':
			return d
		case s[i] == '[':
			d++
		case s[i] == ']':
			d--
		}
	}
	return d
}
