package footer

import (
	"fmt"
	htmltemplate "html/template"
	"io"
	"io/fs"
	"strings"
	texttemplate "text/template"
	"time"

	"github.com/dncgate/dncgate/footer/lang"
)

// load parses every template file at the top of fsys. origin names the set
// in errors.
func (t *Templates) load(fsys fs.FS, origin string) error {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return fmt.Errorf("footer: reading %s templates: %w", origin, err)
	}
	for _, e := range entries {
		if e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		if err := t.loadFile(fsys, e.Name()); err != nil {
			return fmt.Errorf("footer: %s template %s: %w", origin, e.Name(), err)
		}
	}
	return nil
}

func (t *Templates) loadFile(fsys fs.FS, name string) error {
	tag, isHTML, err := splitName(name)
	if err != nil {
		return err
	}
	src, err := readAll(fsys, name)
	if err != nil {
		return err
	}
	l := t.langs[tag]
	if l == nil {
		l = &language{}
		t.langs[tag] = l
	}
	if isHTML {
		l.html, err = htmltemplate.New(name).Funcs(funcs).Option("missingkey=error").Parse(src)
	} else {
		l.text, err = texttemplate.New(name).Funcs(funcs).Option("missingkey=error").Parse(src)
	}
	return err
}

// splitName reads the language tag and kind from "fr.txt.tmpl" or
// "fr.html.tmpl".
func splitName(name string) (tag string, isHTML bool, err error) {
	switch {
	case strings.HasSuffix(name, htmlSuffix):
		tag, isHTML = strings.TrimSuffix(name, htmlSuffix), true
	case strings.HasSuffix(name, textSuffix):
		tag = strings.TrimSuffix(name, textSuffix)
	default:
		return "", false, fmt.Errorf("name must end in %s or %s", textSuffix, htmlSuffix)
	}
	tag = lang.Norm(tag)
	if !lang.Valid(tag) {
		return "", false, fmt.Errorf("%q is not a language tag", tag)
	}
	return tag, isHTML, nil
}

func readAll(fsys fs.FS, name string) (string, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return "", err
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	return string(b), err
}

// sampleVars fills every variable, so that executing a template with them
// finds any reference to a variable Vars does not have.
var sampleVars = Vars{
	Company: NewText("Example Ltd"), PostalAddress: NewText("1 Example Street, Exampletown"),
	PrivacyURL: NewText("https://example.com/privacy"), PrivacyContact: NewText("privacy@example.com"),
	Source: NewText("the company website"), Purpose: NewText("business offers"),
	LegalBasis: NewText("legitimate interest"), UnsubscribeURL: NewText("https://example.com/u/TOKEN"),
	RepName: NewText("Sam Example"), Retention: 1096 * 24 * time.Hour, KeepsPhones: true,
}

// checkRender runs tag's templates with sampleVars. Both must show the
// unsubscribe URL: List-Unsubscribe carries the same one (RFC 8058 §3), and
// a footer without it would not let the recipient opt out.
func (t *Templates) checkRender(tag string) error {
	text, html, err := t.Render(tag, sampleVars)
	if err != nil {
		return err
	}
	if !strings.Contains(text, sampleVars.UnsubscribeURL.String()) {
		return fmt.Errorf("footer: %s%s does not show {{.UnsubscribeURL}}", tag, textSuffix)
	}
	if !strings.Contains(html, `href="`+sampleVars.UnsubscribeURL.String()+`"`) {
		return fmt.Errorf("footer: %s%s does not link to {{.UnsubscribeURL}}", tag, htmlSuffix)
	}
	return nil
}

// check makes sure every language has both templates, that they run and
// show the unsubscribe URL, and that the fallback exists.
func (t *Templates) check() error {
	for _, tag := range t.Languages() {
		l := t.langs[tag]
		if l.text == nil {
			return fmt.Errorf("footer: language %s has no %s%s", tag, tag, textSuffix)
		}
		if l.html == nil {
			return fmt.Errorf("footer: language %s has no %s%s", tag, tag, htmlSuffix)
		}
		if err := t.checkRender(tag); err != nil {
			return err
		}
	}
	if _, ok := t.langs[t.fallback]; !ok {
		return fmt.Errorf("footer: fallback language %q has no templates", t.fallback)
	}
	return nil
}
