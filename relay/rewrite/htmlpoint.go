package rewrite

import (
	"bytes"
	"strings"

	"golang.org/x/net/html"
)

// Where the HTML footer goes. Before "</body>" is not enough: a sender can
// leave an element open there that hides what follows (a <div hidden>,
// display:none, a <textarea> or <title> whose text runs to the end, an
// unclosed comment), so a footer inserted as text would be inside it and
// never shown. htmlPoint tokenises the body (HTML 5 §13.2.5) and follows
// the elements left open, as a browser's tree builder would, erring on the
// side of thinking an element still open; the footer then comes after end
// tags for all of them, at the body's level, where nothing the message
// wrote around it can hide it. A stray end tag costs nothing: browsers
// ignore it. Where the open elements cannot be closed (<plaintext>, a
// <script> whose escaping is unclear) or there are too many, the footer
// goes at the top of the body instead.

// maxOpenElements bounds the elements followed; past it the footer goes at
// the top, so the end tags a copy gains stay within the allowance.
const maxOpenElements = 256

// maxFormattingEnds bounds the end tags written for one formatting element
// (the list of active formatting elements keeps at most three alike).
const maxFormattingEnds = 8

// htmlPoint returns the offset in content where the footer goes and what
// must come before it there.
func htmlPoint(content []byte) (at int, closing []byte) {
	s := scanHTML(content)
	if s.end.ok {
		if c := s.end.closing(); len(c) <= maxClosingBytes {
			return s.end.at, c
		}
	}
	return s.top, nil
}

// maxClosingBytes bounds the end tags a copy gains (element names can be
// long); past it the footer goes at the top.
const maxClosingBytes = 4 << 10

// openElems is the stack of open elements, shared by the snapshots taken
// at each </body>: pushing makes a new node, popping moves up.
type openElems struct {
	name    string
	parent  *openElems
	depth   int
	foreign bool // inside <svg> or <math>
	table   bool // inside <table>
}

func (e *openElems) push(name string) *openElems {
	n := &openElems{name: name, parent: e, depth: 1, foreign: name == "svg" || name == "math", table: name == "table"}
	if e != nil {
		n.depth, n.foreign, n.table = e.depth+1, n.foreign || e.foreign, n.table || e.table
	}
	return n
}

func (e *openElems) inForeign() bool { return e != nil && e.foreign }
func (e *openElems) inTable() bool   { return e != nil && e.table }

func (e *openElems) has(names ...string) bool {
	for ; e != nil; e = e.parent {
		for _, n := range names {
			if e.name == n {
				return true
			}
		}
	}
	return false
}

// point is a candidate place for the footer, with the tree state there.
type point struct {
	ok      bool
	at      int
	open    *openElems
	fmts    [len(formatting)]int // formatting elements opened and maybe not yet closed
	prefix  string               // what ends an unfinished comment or CDATA section
	tooDeep bool
}

// closing is what the footer needs before it: the unfinished construct
// ended, then an end tag for every element that may still be open and
// every formatting element that may still be reopened.
func (p point) closing() []byte {
	var b bytes.Buffer
	b.WriteString(p.prefix)
	for e := p.open; e != nil; e = e.parent {
		b.WriteString("</" + e.name + ">")
	}
	for i, n := range p.fmts {
		for range min(n, maxFormattingEnds) {
			b.WriteString("</" + formatting[i] + ">")
		}
	}
	if b.Len() > 0 {
		b.WriteString("\n")
	}
	return b.Bytes()
}

// htmlScan is the state of one pass over the body.
type htmlScan struct {
	cur      point // the state at the current offset
	end      point // where the footer goes: the last </body>, else the end
	top      int   // the fallback: just inside <body>, else after the prologue
	topFixed bool
}

func scanHTML(content []byte) htmlScan {
	var s htmlScan
	z := html.NewTokenizer(bytes.NewReader(content))
	off := 0
	for {
		z.AllowCDATA(s.cur.open.inForeign())
		tt := z.Next()
		raw := z.Raw()
		start := off
		off += len(raw)
		if tt == html.ErrorToken {
			// The end, or a tag cut short by it, which browsers drop:
			// the footer goes before it.
			s.finish(start)
			return s
		}
		s.token(tt, z, raw, start, off)
	}
}

// finish makes the end of the body the footer's place when no </body>
// was seen, and gives up on a state that cannot be closed.
func (s *htmlScan) finish(at int) {
	if !s.topFixed {
		s.top = at
	}
	if !s.end.ok {
		s.end = s.cur
		s.end.at, s.end.ok = at, true
	}
	if s.end.tooDeep || s.end.open.has("plaintext", "script") {
		s.end.ok = false
	}
}

func (s *htmlScan) token(tt html.TokenType, z *html.Tokenizer, raw []byte, start, end int) {
	s.cur.prefix = ""
	switch tt {
	case html.StartTagToken, html.SelfClosingTagToken:
		name, _ := z.TagName()
		if !headElements[string(name)] {
			s.prologue(start)
		}
		s.startTag(string(name), tt == html.SelfClosingTagToken, end)
	case html.EndTagToken:
		name, _ := z.TagName()
		s.endTag(string(name), start)
	case html.CommentToken:
		s.cur.prefix = unfinished(raw)
	case html.DoctypeToken:
	case html.TextToken:
		if bytes.HasPrefix(raw, []byte("<![CDATA[")) { // only in <svg> or <math>
			s.cur.prefix = unfinished(raw)
		}
		if s.cur.open == nil && len(bytes.TrimSpace(raw)) > 0 {
			s.prologue(start)
		}
	}
}

// prologue fixes the fallback place before the first content of the
// body (not a doctype, comment, white space or an element of the head),
// unless a <body> tag came first.
func (s *htmlScan) prologue(at int) {
	if !s.topFixed {
		s.top, s.topFixed = at, true
	}
}

// unfinished returns what ends a comment or CDATA section the body left
// open at its end, "" for one that is complete.
func unfinished(raw []byte) string {
	r := string(raw)
	switch {
	case strings.HasPrefix(r, "<![CDATA["):
		if !strings.HasSuffix(r, "]]>") || len(r) < len("<![CDATA[]]>") {
			return "]]>"
		}
	case strings.HasPrefix(r, "<!--"):
		rest := r[len("<!--"):]
		if rest != ">" && rest != "->" && !(len(rest) >= 3 && (strings.HasSuffix(rest, "-->") || strings.HasSuffix(rest, "--!>"))) {
			return "-->"
		}
	case !strings.HasSuffix(r, ">"):
		return ">"
	}
	return ""
}

func (s *htmlScan) startTag(name string, selfClosing bool, end int) {
	c := &s.cur
	switch {
	case name == "html" || name == "head":
		return
	case name == "body":
		if !s.topFixed {
			s.top, s.topFixed = end, true
		}
		return
	case voidElements[name]:
		return
	case selfClosing && (name == "svg" || name == "math" || c.open.inForeign()):
		return
	}
	s.implicitEnds(name)
	if tableParts[name] && !c.open.inTable() {
		return // ignored outside a table (HTML 5 §13.2.6.4.7)
	}
	if i := formattingIndex(name); i >= 0 {
		if name == "a" || name == "nobr" {
			s.endTag(name, -1)
		}
		c.fmts[i]++
	}
	if c.open != nil && c.open.depth >= maxOpenElements {
		c.tooDeep = true
		return
	}
	c.open = c.open.push(name)
}

// implicitEnds closes what a start tag closes in a browser: an open <p>
// before a block, the previous <li>, <dd>/<dt> or <option>, the table
// parts a new row or cell ends (HTML 5 §13.2.6.4.7).
func (s *htmlScan) implicitEnds(name string) {
	c := &s.cur
	switch {
	case closesP[name]:
		c.open = popTo(c.open, []string{"p"}, func(n string) bool { return buttonScope[n] })
		switch name {
		case "li":
			c.open = popTo(c.open, []string{"li"}, listItemStop)
		case "dd", "dt":
			c.open = popTo(c.open, []string{"dd", "dt"}, listItemStop)
		}
	case name == "option" || name == "optgroup":
		for c.open != nil && (c.open.name == "option" || (name == "optgroup" && c.open.name == "optgroup")) {
			c.open = c.open.parent
		}
	case name == "tr" || name == "td" || name == "th" || name == "tbody" || name == "thead" || name == "tfoot" || name == "caption" || name == "colgroup":
		if !c.open.inTable() {
			return
		}
		keep := map[string]bool{"table": true, "template": true}
		switch name {
		case "tr":
			keep["tbody"], keep["thead"], keep["tfoot"] = true, true, true
		case "td", "th":
			keep["tr"], keep["tbody"], keep["thead"], keep["tfoot"] = true, true, true, true
		}
		for c.open != nil && !keep[c.open.name] {
			c.open = c.open.parent
		}
	}
}

func (s *htmlScan) endTag(name string, at int) {
	c := &s.cur
	switch name {
	case "body", "html":
		if at >= 0 {
			if name == "body" || !s.end.ok {
				s.end = *c
				s.end.at, s.end.ok = at, true
			}
		}
		return
	case "head", "br":
		return
	}
	if i := formattingIndex(name); i >= 0 {
		s.formattingEnd(name, i)
		return
	}
	stops := special
	if scoped[name] {
		stops = defaultScope
		if name == "li" {
			stops = listItemScope
		} else if name == "p" {
			stops = buttonScope
		} else if tableParts[name] || name == "table" {
			stops = tableScope
		}
	}
	names := []string{name}
	if isHeading(name) {
		names = []string{"h1", "h2", "h3", "h4", "h5", "h6"}
	}
	c.open = popTo(c.open, names, func(n string) bool { return stops[n] && !contains(names, n) })
}

// formattingEnd follows the adoption agency (HTML 5 §13.2.6.4.7): an end
// tag with only phrasing elements above its element pops it; with a block
// above, the block stays open with a copy of the element inside, so
// nothing changes here; outside the current scope it is ignored.
func (s *htmlScan) formattingEnd(name string, i int) {
	c := &s.cur
	block := false
	for e := c.open; e != nil; e = e.parent {
		switch {
		case e.name == name && !block:
			c.open = e.parent
			c.fmts[i] = max(0, c.fmts[i]-1)
			return
		case e.name == name:
			return
		case defaultScope[e.name]:
			return
		case special[e.name]:
			block = true
		}
	}
}

// popTo pops up to and including the nearest element named in names,
// unless an element stop picks comes first; then nothing changes.
func popTo(e *openElems, names []string, stop func(string) bool) *openElems {
	for n := e; n != nil; n = n.parent {
		if contains(names, n.name) {
			return n.parent
		}
		if stop(n.name) {
			return e
		}
	}
	return e
}

func contains(names []string, n string) bool {
	for _, x := range names {
		if x == n {
			return true
		}
	}
	return false
}

func isHeading(n string) bool { return len(n) == 2 && n[0] == 'h' && n[1] >= '1' && n[1] <= '6' }

func set(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}

// The element categories of HTML 5 §13.2.4.2 the scan needs.
var (
	voidElements = set("area", "base", "basefont", "bgsound", "br", "col", "embed", "frame", "hr", "image",
		"img", "input", "keygen", "link", "meta", "param", "source", "track", "wbr")
	formatting = [...]string{"a", "b", "big", "code", "em", "font", "i", "nobr", "s", "small", "strike", "strong", "tt", "u"}
	// defaultScope holds the elements that bound "has an element in scope".
	defaultScope = set("applet", "caption", "html", "table", "td", "th", "marquee", "object", "template",
		"mi", "mo", "mn", "ms", "mtext", "annotation-xml", "foreignobject", "desc", "title")
	listItemScope = union(defaultScope, "ol", "ul")
	buttonScope   = union(defaultScope, "button")
	tableScope    = set("html", "table", "template")
	special       = union(defaultScope, "address", "area", "article", "aside", "base", "basefont", "bgsound",
		"blockquote", "body", "br", "button", "center", "col", "colgroup", "dd", "details", "dir", "div", "dl",
		"dt", "embed", "fieldset", "figcaption", "figure", "footer", "form", "frame", "frameset", "h1", "h2",
		"h3", "h4", "h5", "h6", "head", "header", "hgroup", "hr", "iframe", "img", "input", "keygen", "li",
		"link", "listing", "main", "menu", "meta", "nav", "noembed", "noframes", "noscript", "ol", "p", "param",
		"plaintext", "pre", "script", "search", "section", "select", "source", "style", "summary", "tbody",
		"textarea", "tfoot", "thead", "tr", "track", "ul", "wbr", "xmp")
	// scoped are the end tags a browser honours only with the element in
	// scope, popping whatever is above it.
	scoped = set("address", "article", "aside", "blockquote", "button", "center", "details", "dialog", "dir",
		"div", "dl", "fieldset", "figcaption", "figure", "footer", "header", "hgroup", "listing", "main", "menu",
		"nav", "ol", "pre", "search", "section", "summary", "ul", "form", "p", "li", "dd", "dt",
		"h1", "h2", "h3", "h4", "h5", "h6", "applet", "marquee", "object",
		"table", "caption", "colgroup", "tbody", "thead", "tfoot", "tr", "td", "th")
	closesP = set("address", "article", "aside", "blockquote", "center", "details", "dialog", "dir", "div",
		"dl", "fieldset", "figcaption", "figure", "footer", "header", "hgroup", "main", "menu", "nav", "ol", "p",
		"search", "section", "summary", "ul", "h1", "h2", "h3", "h4", "h5", "h6", "pre", "listing", "form",
		"plaintext", "table", "xmp", "li", "dd", "dt")
	tableParts   = set("caption", "colgroup", "tbody", "thead", "tfoot", "tr", "td", "th")
	headElements = set("html", "head", "body", "meta", "link", "title", "style", "base", "script", "noscript",
		"template", "basefont", "bgsound")
)

// listItemStop is where looking for an open <li>, <dd> or <dt> to close
// stops: a special element other than address, div and p.
func listItemStop(n string) bool {
	return special[n] && n != "address" && n != "div" && n != "p"
}

func union(m map[string]bool, names ...string) map[string]bool {
	out := set(names...)
	for k := range m {
		out[k] = true
	}
	return out
}

func formattingIndex(name string) int {
	for i, f := range formatting {
		if f == name {
			return i
		}
	}
	return -1
}
