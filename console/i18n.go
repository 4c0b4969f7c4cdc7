package console

import (
	"bufio"
	"bytes"
	"embed"
	"fmt"
	"io/fs"
	"net/http"
	"path"
	"slices"
	"strings"

	"golang.org/x/text/language"
)

// Languages the console is written in; the first is the fallback.
var Languages = []string{"en", "fr"}

//go:embed messages/*
var messageFS embed.FS

// catalog is one language's messages by key.
type catalog map[string]string

// catalogs are the catalogs by language.
type catalogs map[string]catalog

// text is the message key with args filled in; a key without a message
// shows as itself, which the catalog tests rule out.
func (c catalog) text(key string, args ...any) string {
	m, ok := c[key]
	if !ok {
		m = key
	}
	if len(args) == 0 {
		return m
	}
	return fmt.Sprintf(m, args...)
}

// loadCatalogs reads messages/AREA.LANG, "key = text" a line ('#' starts a
// comment), and checks that every language has every key.
func loadCatalogs() (catalogs, error) {
	cs := make(catalogs)
	for _, l := range Languages {
		cs[l] = make(catalog)
	}
	files, _ := fs.Glob(messageFS, "messages/*")
	for _, name := range files {
		lang := strings.TrimPrefix(path.Ext(name), ".")
		c, ok := cs[lang]
		if !ok {
			return nil, fmt.Errorf("console: %s: the language %q is not one of %v", name, lang, Languages)
		}
		b, _ := messageFS.ReadFile(name)
		if err := c.read(name, b); err != nil {
			return nil, err
		}
	}
	for _, l := range Languages[1:] {
		if missing := missingKeys(cs[Languages[0]], cs[l]); len(missing) > 0 {
			return nil, fmt.Errorf("console: messages in %s lack %s", l, strings.Join(missing, ", "))
		}
		if extra := missingKeys(cs[l], cs[Languages[0]]); len(extra) > 0 {
			return nil, fmt.Errorf("console: messages in %s lack %s", Languages[0], strings.Join(extra, ", "))
		}
	}
	return cs, nil
}

func (c catalog) read(name string, b []byte) error {
	sc := bufio.NewScanner(bytes.NewReader(b))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if !ok || k == "" {
			return fmt.Errorf("console: %s:%d: want \"key = text\"", name, n)
		}
		if _, dup := c[k]; dup {
			return fmt.Errorf("console: %s:%d: %q is defined twice", name, n, k)
		}
		c[k] = v
	}
	return sc.Err()
}

func missingKeys(want, have catalog) []string {
	var out []string
	for k := range want {
		if _, ok := have[k]; !ok {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

// langCookie keeps the language a reader chose over the browser's.
const langCookie = "dncgate-lang"

var langMatcher = language.NewMatcher([]language.Tag{language.English, language.French})

// pickLanguage: the reader's choice (cookie), else the browser's
// Accept-Language (RFC 9110 §12.5.4), else English.
func pickLanguage(r *http.Request) string {
	if ck, err := r.Cookie(langCookie); err == nil && slices.Contains(Languages, ck.Value) {
		return ck.Value
	}
	tags, _, err := language.ParseAcceptLanguage(r.Header.Get("Accept-Language"))
	if err != nil || len(tags) == 0 {
		return Languages[0]
	}
	_, i, conf := langMatcher.Match(tags...)
	if conf == language.No {
		return Languages[0]
	}
	return Languages[i]
}
