package footer

import (
	"github.com/dncgate/dncgate/footer/lang"
	"html"
	"strings"
	"testing"
	"testing/fstest"
	"unicode/utf8"

	"github.com/dncgate/dncgate/country"
)

var shippedLangs = lang.Shipped

func fullVars() Vars {
	return Vars{
		Company:        NewText("Acme Widgets GmbH"),
		PostalAddress:  NewText("Hauptstraße 1\n10115 Berlin\nGermany"),
		PrivacyURL:     NewText("https://acme.example/privacy"),
		PrivacyContact: NewText("dpo@acme.example"),
		Source:         NewText("the exhibitor list of Widget Expo 2026"),
		Purpose:        NewText("offers of industrial widgets"),
		LegalBasis:     NewText("legitimate interest, Art. 6(1)(f) GDPR"),
		UnsubscribeURL: NewText("https://gw.acme.example/u/AQUcBu02vRumuBScYNmc"),
		RepName:        NewText("Ana Rep"),
	}
}

func mustNew(t *testing.T) *Templates {
	t.Helper()
	tpl, err := New(nil, "")
	if err != nil {
		t.Fatal(err)
	}
	return tpl
}

func TestShippedLanguages(t *testing.T) {
	got := strings.Join(mustNew(t).Languages(), ",")
	if got != strings.Join(shippedLangs, ",") {
		t.Errorf("Languages() = %s, want %v", got, shippedLangs)
	}
}

func TestEveryLanguageShowsEveryVariable(t *testing.T) {
	tpl := mustNew(t)
	v := fullVars()
	want := []string{
		v.Company.String(), "Hauptstraße 1, 10115 Berlin, Germany", v.PrivacyURL.String(), v.PrivacyContact.String(),
		v.Source.String(), v.Purpose.String(), v.LegalBasis.String(), v.UnsubscribeURL.String(), v.RepName.String(),
	}
	for _, lang := range shippedLangs {
		text, htm, err := tpl.Render(lang, v)
		if err != nil {
			t.Fatalf("%s: %v", lang, err)
		}
		flatText := strings.ReplaceAll(text, "\n", " ")
		flatHTML := html.UnescapeString(strings.ReplaceAll(htm, "\n", " "))
		for _, w := range want {
			if !strings.Contains(flatText, w) {
				t.Errorf("%s text lacks %q:\n%s", lang, w, text)
			}
			if !strings.Contains(flatHTML, w) {
				t.Errorf("%s HTML lacks %q:\n%s", lang, w, htm)
			}
		}
	}
}

func TestUnsubscribeURLInTextAndHTML(t *testing.T) {
	tpl := mustNew(t)
	v := fullVars()
	for _, lang := range shippedLangs {
		text, htm, err := tpl.Render(lang, v)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(text, "\n"+v.UnsubscribeURL.String()) && !strings.Contains(text, " "+v.UnsubscribeURL.String()) {
			t.Errorf("%s text does not show the URL as a whole word:\n%s", lang, text)
		}
		if !strings.Contains(htm, `href="`+v.UnsubscribeURL.String()+`"`) {
			t.Errorf("%s HTML does not link to the URL:\n%s", lang, htm)
		}
	}
}

func TestLanguagesDiffer(t *testing.T) {
	tpl := mustNew(t)
	seen := map[string]string{}
	for _, lang := range shippedLangs {
		text, _, _ := tpl.Render(lang, fullVars())
		if other, dup := seen[text]; dup {
			t.Errorf("%s renders the same text as %s", lang, other)
		}
		seen[text] = lang
	}
}

func TestHTMLEscapesHostileValues(t *testing.T) {
	v := fullVars()
	v.Company = NewText(`<script>alert("x")</script> & Co`)
	v.RepName = NewText(`"><img src=x onerror=alert(1)>`)
	_, htm, err := mustNew(t).Render("en", v)
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"<script", "<img", `"><`} {
		if strings.Contains(htm, bad) {
			t.Errorf("HTML contains %q unescaped:\n%s", bad, htm)
		}
	}
	if !strings.Contains(htm, "&lt;script&gt;") || !strings.Contains(htm, "&amp; Co") {
		t.Errorf("HTML lacks the escaped company name:\n%s", htm)
	}
}

func TestOptionalVariablesLeftOut(t *testing.T) {
	v := fullVars()
	v.RepName, v.PrivacyContact = Text{}, Text{}
	for _, lang := range shippedLangs {
		text, htm, err := mustNew(t).Render(lang, v)
		if err != nil {
			t.Fatalf("%s: %v", lang, err)
		}
		for _, s := range []string{text, htm} {
			if strings.Contains(s, "  ") || strings.Contains(s, "<no value>") || strings.Contains(s, ": .") {
				t.Errorf("%s: awkward output without optional values:\n%s", lang, s)
			}
		}
	}
}

func TestFallback(t *testing.T) {
	tpl := mustNew(t)
	en, _, _ := tpl.Render("en", fullVars())
	fr, _, _ := tpl.Render("fr", fullVars())
	for lang, want := range map[string]string{
		"pt": en, "": en, "xx-YY": en, "FR": fr, "fr-BE": fr, "fr_CA": fr,
	} {
		got, _, err := tpl.Render(lang, fullVars())
		if err != nil || got != want {
			t.Errorf("Render(%q) = %q, %v; want the %q text", lang, got, err, want[:20])
		}
	}
	nl, err := New(nil, "nl")
	if err != nil {
		t.Fatal(err)
	}
	got, _, _ := nl.Render("pt", fullVars())
	want, _, _ := nl.Render("nl", fullVars())
	if got != want {
		t.Errorf("configured fallback nl: got %q", got)
	}
}

func TestMissingRequiredVariable(t *testing.T) {
	tpl := mustNew(t)
	for _, name := range []string{"Company", "PostalAddress", "PrivacyURL", "Source", "Purpose", "LegalBasis", "UnsubscribeURL"} {
		v := fullVars()
		*map[string]*Text{
			"Company": &v.Company, "PostalAddress": &v.PostalAddress, "PrivacyURL": &v.PrivacyURL,
			"Source": &v.Source, "Purpose": &v.Purpose, "LegalBasis": &v.LegalBasis, "UnsubscribeURL": &v.UnsubscribeURL,
		}[name] = NewText(" \n\u2028\u202e\u0085 ")
		_, _, err := tpl.Render("de", v)
		if err == nil || !strings.Contains(err.Error(), "missing required variable "+name) {
			t.Errorf("without %s: err = %v", name, err)
		}
	}
}

func TestBadURLs(t *testing.T) {
	tpl := mustNew(t)
	for _, u := range []string{"javascript:alert(1)", "/u/relative", "ftp://x.example/", "http://"} {
		v := fullVars()
		v.UnsubscribeURL = NewText(u)
		_, _, err := tpl.Render("en", v)
		if err == nil || !strings.Contains(err.Error(), "UnsubscribeURL") {
			t.Errorf("UnsubscribeURL %q: err = %v", u, err)
		}
	}
}

func TestTextLinesWrapped(t *testing.T) {
	text, _, err := mustNew(t).Render("fr", fullVars())
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(text, "\n") {
		if utf8.RuneCountInString(line) > wrapWidth {
			t.Errorf("line of %d characters: %q", utf8.RuneCountInString(line), line)
		}
		if strings.HasPrefix(line, ":") || strings.HasPrefix(line, ";") {
			t.Errorf("French punctuation stranded at a line start: %q", line)
		}
	}
}

func TestWrapKeepsLongWords(t *testing.T) {
	long := "https://example.com/" + strings.Repeat("x", 100)
	got := wrap("see "+long+" now", 20)
	if got != "see\n"+long+"\nnow" {
		t.Errorf("wrap = %q", got)
	}
}

func TestOverride(t *testing.T) {
	fsys := fstest.MapFS{
		"en.txt.tmpl":    {Data: []byte("Custom {{.Company}} {{.UnsubscribeURL}}")},
		"pt.txt.tmpl":    {Data: []byte("De {{.Company}}: {{.UnsubscribeURL}}")},
		"pt.html.tmpl":   {Data: []byte(`<p>{{.Company}} <a href="{{.UnsubscribeURL}}">x</a></p>`)},
		".DS_Store":      {Data: []byte("junk")},
		"sub/ignored.md": {Data: []byte("x")},
	}
	tpl, err := New(fsys, "")
	if err != nil {
		t.Fatal(err)
	}
	text, htm, _ := tpl.Render("en", fullVars())
	if text != "Custom Acme Widgets GmbH https://gw.acme.example/u/AQUcBu02vRumuBScYNmc" {
		t.Errorf("overridden en text = %q", text)
	}
	if !strings.Contains(htm, "Privacy policy") {
		t.Errorf("en HTML should stay the shipped one: %q", htm)
	}
	if text, _, _ := tpl.Render("pt-BR", fullVars()); !strings.HasPrefix(text, "De Acme") {
		t.Errorf("added pt text = %q", text)
	}
}

func TestOverrideErrors(t *testing.T) {
	cases := map[string]struct {
		files    fstest.MapFS
		fallback string
		want     string
	}{
		"syntax":       {fstest.MapFS{"en.txt.tmpl": {Data: []byte("{{.Company")}}, "", "en.txt.tmpl"},
		"unknown var":  {fstest.MapFS{"en.txt.tmpl": {Data: []byte("{{.Nope}} {{.UnsubscribeURL}}")}}, "", "Nope"},
		"no url text":  {fstest.MapFS{"de.txt.tmpl": {Data: []byte("{{.Company}}")}}, "", "de.txt.tmpl does not show"},
		"no url html":  {fstest.MapFS{"de.html.tmpl": {Data: []byte("<p>{{.UnsubscribeURL}}</p>")}}, "", "de.html.tmpl does not link"},
		"half a lang":  {fstest.MapFS{"pt.txt.tmpl": {Data: []byte("{{.UnsubscribeURL}}")}}, "", "language pt has no pt.html.tmpl"},
		"bad name":     {fstest.MapFS{"english.txt": {Data: []byte("x")}}, "", "english.txt: name must end"},
		"bad tag":      {fstest.MapFS{"e1.txt.tmpl": {Data: []byte("x")}}, "", "not a language tag"},
		"bad fallback": {nil, "pt", `fallback language "pt"`},
	}
	for name, c := range cases {
		var err error
		if c.files == nil {
			_, err = New(nil, c.fallback)
		} else {
			_, err = New(c.files, c.fallback)
		}
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want it to contain %q", name, err, c.want)
		}
	}
}

func TestLanguageFor(t *testing.T) {
	for cc, want := range map[country.Code]string{
		"FR": "fr", "BE": "nl", "DE": "de", "AT": "de", "CH": "de", "ES": "es", "MX": "es",
		"IT": "it", "NL": "nl", "LU": "fr", "GB": "en", "US": "en", "": "en", "PT": "en",
	} {
		if got := LanguageFor(cc); got != want {
			t.Errorf("LanguageFor(%q) = %q, want %q", cc, got, want)
		}
	}
	tpl := mustNew(t)
	for _, lang := range countryLanguage {
		if _, ok := tpl.langs[lang]; !ok {
			t.Errorf("LanguageFor can return %q, which has no shipped templates", lang)
		}
	}
}

func BenchmarkRender(b *testing.B) {
	tpl, err := New(nil, "")
	if err != nil {
		b.Fatal(err)
	}
	v := fullVars()
	for b.Loop() {
		if _, _, err := tpl.Render("fr", v); err != nil {
			b.Fatal(err)
		}
	}
}

// Whatever a value holds, the footer shows it on one line, in logical
// order, nothing hidden: no bidi override or isolate, no zero-width or
// other format character, no line or paragraph separator, no control.
func TestTextDropsFormatSeparatorAndControl(t *testing.T) {
	for in, want := range map[string]string{
		"Ana\u202eeviL\u202c Rep":                "AnaeviL Rep",
		"Ana\u2066x\u2069\u200e\u200f\u061c Rep": "Anax Rep",
		"Ana\u200b\u200d\ufeff\u00ad Rep":        "Ana Rep",
		"1 Main St\u20282 Floor\u2029Town":       "1 Main St, 2 Floor, Town",
		"a\u0085b\r\nc\vd\fe":                    "a, b, c, d, e",
		"a\x00b\x1bc\x7fd\u0080e\u009bf\tg":      "abcdef g",
		"bad \xff utf-8":                         "bad \ufffd utf-8",
		"  Zoë Ó Dúnlaing  ":                     "Zoë Ó Dúnlaing",
	} {
		if got := NewText(in).String(); got != want {
			t.Errorf("NewText(%q) = %q, want %q", in, got, want)
		}
	}
}

// A rep's display name reaches the notice only cleaned, in both bodies.
func TestRepNameCleanedInFooter(t *testing.T) {
	v := fullVars()
	v.RepName = NewText("Ana\u202e Rep\u2028Evil\u0085")
	for _, lang := range shippedLangs {
		text, htm, err := mustNew(t).Render(lang, v)
		if err != nil {
			t.Fatal(err)
		}
		for _, body := range []string{text, htm} {
			for _, r := range body {
				if r == '\u202e' || r == '\u2028' || r == '\u0085' {
					t.Errorf("%s: footer holds %U:\n%s", lang, r, body)
				}
			}
			if !strings.Contains(strings.ReplaceAll(body, "\n", " "), "Ana Rep, Evil") {
				t.Errorf("%s: footer lacks the cleaned name:\n%s", lang, body)
			}
		}
	}
}
