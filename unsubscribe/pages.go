package unsubscribe

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"fmt"
	"html/template"
	"net/http"
	"strconv"
	"time"

	"golang.org/x/text/language"

	"github.com/dncgate/dncgate/country"
	"github.com/dncgate/dncgate/footer"
	flang "github.com/dncgate/dncgate/footer/lang"
	"github.com/dncgate/dncgate/lists"
	"github.com/dncgate/dncgate/unsubscribe/token"
)

// The pages, each defined in every language's template file.
const (
	pageConfirm = "confirm"
	pageDone    = "done"
	pageExpired = "expired"
	pageInvalid = "invalid"
)

// Languages are the languages the pages are written in; the first is the
// fallback.
var Languages = []string{"en", "fr", "de", "es", "it", "nl"}

//go:embed templates/*.html.tmpl
var templateFS embed.FS

// style is the pages' only styling, inline so a page is one response; the
// Content-Security-Policy allows exactly this text by its hash (CSP Level
// 3 §8.3), and nothing else: no script, image, font or frame.
const style = `body{font-family:system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem;line-height:1.5;color:#222}` +
	`button{font-size:1.1rem;padding:.6rem 1.4rem;cursor:pointer}`

var contentSecurityPolicy = "default-src 'none'; style-src 'sha256-" + styleDigest() + "'; " +
	"form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

func styleDigest() string {
	sum := sha256.Sum256([]byte(style))
	return base64.StdEncoding.EncodeToString(sum[:])
}

// pageData is what every page template sees.
type pageData struct {
	Lang    string
	Style   template.CSS
	Masked  string // the recipient, masked: j***@acme.fr
	Company string
	Contact string
	Mailto  string // the domain of the mailto unsubscribe address, "" for none
	CSRF    string
}

// pages holds one template set per language.
type pages struct {
	byLang  map[string]*template.Template
	matcher language.Matcher
}

func loadPages() (*pages, error) {
	p := &pages{byLang: make(map[string]*template.Template)}
	tags := make([]language.Tag, len(Languages))
	for i, lang := range Languages {
		t, err := template.ParseFS(templateFS, "templates/layout.html.tmpl", "templates/"+lang+".html.tmpl")
		if err != nil {
			return nil, fmt.Errorf("unsubscribe: page templates for %s: %w", lang, err)
		}
		for _, name := range []string{pageConfirm, pageDone, pageExpired, pageInvalid, pagePrivacy} {
			if t.Lookup(name) == nil {
				return nil, fmt.Errorf("unsubscribe: the %s templates have no %q page", lang, name)
			}
		}
		p.byLang[lang] = t
		tags[i] = language.MustParse(lang)
	}
	p.matcher = language.NewMatcher(tags)
	return p, nil
}

// language picks the page language: the footer's, which the token
// carries, when the pages have it; for a token sealed before tokens did,
// the one of the country the recipient's domain names; else the browser's
// Accept-Language (RFC 9110 §12.5.4), else English.
func (p *pages) language(c token.Claims, acceptLanguage string) string {
	if _, ok := p.byLang[c.Lang]; ok {
		return c.Lang
	}
	cc, _ := country.FromAddress(c.Recipient)
	if lang := footer.LanguageFor(cc); lang != flang.Default {
		return lang
	}
	return p.pick("", acceptLanguage)
}

// pick is lang when the pages have it, else the best match of the
// browser's Accept-Language (RFC 9110 §12.5.4), else English.
func (p *pages) pick(lang, acceptLanguage string) string {
	if _, ok := p.byLang[lang]; ok {
		return lang
	}
	tags, _, err := language.ParseAcceptLanguage(acceptLanguage)
	if err != nil || len(tags) == 0 {
		return Languages[0]
	}
	_, i, conf := p.matcher.Match(tags...)
	if conf == language.No {
		return Languages[0]
	}
	return Languages[i]
}

// render writes page name for the token's recipient in their language.
func (h *Handler) render(w http.ResponseWriter, r *http.Request, status int, name string, c token.Claims, csrfValue string) {
	lang, rcpt := h.pages.language(c, r.Header.Get("Accept-Language")), c.Recipient
	var buf bytes.Buffer
	err := h.pages.byLang[lang].ExecuteTemplate(&buf, name, pageData{
		Lang: lang, Style: template.CSS(style), Masked: lists.MaskEmail(rcpt),
		Company: h.o.Company, Contact: h.o.Contact, Mailto: h.o.MailtoDomain, CSRF: csrfValue,
	})
	if err != nil {
		h.o.Log.Error("unsubscribe: rendering a page", "page", name, "lang", lang, "err", err)
		plainError(w, http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Language", lang)
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// setSecurityHeaders: nothing is cached (the page names a person), framed
// (no clickjacking of the button), leaked through Referer (the URL holds
// the token) or loaded beyond the hashed style.
func setSecurityHeaders(h http.Header) {
	h.Set("Content-Security-Policy", contentSecurityPolicy)
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
}

// plainError answers with the status text alone: an invalid link gets no
// hint of which check failed.
func plainError(w http.ResponseWriter, status int) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	fmt.Fprintln(w, http.StatusText(status))
}

// retryAfter is a Retry-After value in whole seconds, at least 1 (RFC
// 9110 §10.2.3).
func retryAfter(d time.Duration) string {
	return strconv.Itoa(max(1, int((d+time.Second-1)/time.Second)))
}
