// Package footer renders the privacy notice and opt-out footer that the
// gateway adds to every message, in the recipient's language: plain text
// with text/template and HTML with html/template, so every value is
// escaped for the HTML body without the template author's help.
//
// Shipped templates cover English, French, German, Spanish, Italian and
// Dutch. Files from configuration override them or add languages: for a
// language tag L, "L.txt.tmpl" and "L.html.tmpl".
package footer

import (
	"bytes"
	"embed"
	"fmt"
	htmltemplate "html/template"
	"io/fs"
	"slices"
	"sort"
	"strings"
	texttemplate "text/template"

	"github.com/dncgate/dncgate/footer/lang"
)

//go:embed templates/*.tmpl
var shipped embed.FS

// File name suffixes of the two templates of a language.
const (
	textSuffix = ".txt.tmpl"
	htmlSuffix = ".html.tmpl"
)

// language holds the two templates of one language.
type language struct {
	text *texttemplate.Template
	html *htmltemplate.Template
}

// Templates renders footers. It is safe for concurrent use once built.
type Templates struct {
	langs    map[string]*language
	fallback string
}

// New loads the shipped templates, then the files in override (nil for
// none), which replace shipped ones of the same name or add languages.
// fallback is the language used for an unknown one ("" means
// lang.Default) and must have templates. Every template is tried once
// with sample values, so a mistake in a file is reported here, by name.
func New(override fs.FS, fallback string) (*Templates, error) {
	t := &Templates{langs: map[string]*language{}, fallback: lang.Norm(fallback)}
	if t.fallback == "" {
		t.fallback = lang.Default
	}
	sub, err := fs.Sub(shipped, "templates")
	if err != nil {
		return nil, fmt.Errorf("footer: shipped templates: %w", err)
	}
	if err := t.load(sub, "shipped"); err != nil {
		return nil, err
	}
	if override != nil {
		if err := t.load(override, "override"); err != nil {
			return nil, err
		}
	}
	return t, t.check()
}

// Languages lists the languages that have templates, sorted.
func (t *Templates) Languages() []string {
	out := make([]string, 0, len(t.langs))
	for l := range t.langs {
		out = append(out, l)
	}
	sort.Strings(out)
	return out
}

// Render returns the text and HTML footers for v in lang (a tag such as
// "fr" or "fr-BE", any case), falling back to the region-less tag and then
// to the fallback language. lang may join several tags with "+"
// ("nl+fr", Belgium's two languages): the footers follow one another. It
// fails, naming the variable, when a required variable is empty or a URL
// is not absolute http(s).
func (t *Templates) Render(lang string, v Vars) (text, html string, err error) {
	var texts, htmls []string
	for _, tag := range strings.Split(t.Resolve(lang), Separator) {
		vals, err := v.localised(tag).check()
		if err != nil {
			return "", "", err
		}
		vals.Retention = retentionText(tag, v.Retention)
		l := t.langs[tag]
		var tb, hb bytes.Buffer
		if err := l.text.Execute(&tb, vals); err != nil {
			return "", "", fmt.Errorf("footer: %s text template: %w", tag, err)
		}
		if err := l.html.Execute(&hb, vals); err != nil {
			return "", "", fmt.Errorf("footer: %s HTML template: %w", tag, err)
		}
		texts = append(texts, wrap(strings.TrimSpace(tb.String()), wrapWidth))
		htmls = append(htmls, strings.TrimSpace(hb.String()))
	}
	return strings.Join(texts, "\n\n"), strings.Join(htmls, "\n"), nil
}

// Separator joins the tags of a footer in several languages.
const Separator = "+"

// Primary is the first language of a footer in several: the one its
// unsubscribe page speaks.
func Primary(lang string) string {
	first, _, _ := strings.Cut(lang, Separator)
	return first
}

// Resolve returns the language Render writes for requested: that tag, its
// region-less tag or the fallback, whichever has templates first; for
// several tags joined by "+", each resolved, without repeats.
func (t *Templates) Resolve(requested string) string {
	var out []string
	for _, tag := range strings.Split(requested, Separator) {
		if r := t.resolveOne(tag); !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	return strings.Join(out, Separator)
}

func (t *Templates) resolveOne(requested string) string {
	tag := lang.Norm(requested)
	if _, ok := t.langs[tag]; ok {
		return tag
	}
	if primary, _, found := strings.Cut(tag, "-"); found {
		if _, ok := t.langs[primary]; ok {
			return primary
		}
	}
	return t.fallback
}
