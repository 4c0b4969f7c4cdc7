package config

import (
	"fmt"
	"sort"
	"strings"
)

// Problem is one mistake in a configuration, located as precisely as known.
type Problem struct {
	File string // config file; empty for defaults and command-line values
	Line int    // 1-based line in File; 0 when unknown
	Key  string // dotted path such as "listener[0].tls"; empty for syntax errors
	Msg  string
}

// String formats the problem as FILE:LINE: key: message, dropping the parts
// that are unknown.
func (p Problem) String() string {
	var b strings.Builder
	if p.File != "" {
		b.WriteString(p.File)
		if p.Line > 0 {
			fmt.Fprintf(&b, ":%d", p.Line)
		}
		b.WriteString(": ")
	}
	if p.Key != "" {
		b.WriteString(p.Key + ": ")
	}
	b.WriteString(p.Msg)
	return b.String()
}

// Problems is every mistake found in a configuration; it is the error that
// Load and Validate return.
type Problems []Problem

func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// sorted orders problems as the file reads, those without a line last.
func (ps Problems) sorted() Problems {
	sort.SliceStable(ps, func(i, j int) bool {
		li, lj := ps[i].Line, ps[j].Line
		if li == 0 || lj == 0 {
			return lj == 0 && li != 0
		}
		return li < lj
	})
	return ps
}

// collector gathers problems, locating each key through the source.
type collector struct {
	src  *source
	list Problems
}

func (c *collector) add(key, format string, args ...any) {
	p := Problem{Key: key, Msg: fmt.Sprintf(format, args...)}
	switch {
	case c.src.fromFlag(key):
		p.Msg += " (set on the command line)"
	case c.src != nil:
		p.File, p.Line = c.src.file, c.src.line(key)
	}
	c.list = append(c.list, p)
}

// err returns the problems as an error, or nil when there are none.
func (c *collector) err() error {
	if len(c.list) == 0 {
		return nil
	}
	return c.list
}
