package console

import (
	"io/fs"
	"regexp"
	"testing"
)

var keyRE = regexp.MustCompile(`\.T "([a-z0-9.]+)"`)

// TestTemplateKeysHaveMessages: every message a template names exists in
// every language (loadCatalogs already checks the languages agree).
func TestTemplateKeysHaveMessages(t *testing.T) {
	cs, err := loadCatalogs()
	if err != nil {
		t.Fatal(err)
	}
	files, _ := fs.Glob(templateFS, "templates/*.html.tmpl")
	for _, f := range files {
		b, _ := templateFS.ReadFile(f)
		for _, m := range keyRE.FindAllStringSubmatch(string(b), -1) {
			for _, l := range Languages {
				if _, ok := cs[l][m[1]]; !ok {
					t.Errorf("%s: %q has no %s message", f, m[1], l)
				}
			}
		}
	}
}

func TestCatalogErrors(t *testing.T) {
	c := catalog{}
	if err := c.read("x.en", []byte("a = b\nno equals here\n")); err == nil || err.Error() != `console: x.en:2: want "key = text"` {
		t.Errorf("bad line: %v", err)
	}
	c = catalog{}
	if err := c.read("x.en", []byte("a = b\na = c\n")); err == nil {
		t.Errorf("a key defined twice was accepted")
	}
}
