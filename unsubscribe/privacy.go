package unsubscribe

import (
	"bytes"
	"context"
	"errors"
	"html/template"
	"net/http"
)

// PrivacyPath is where the processing page is mounted.
const PrivacyPath = "/privacy"

// pagePrivacy is the processing page, defined in every language's file.
const pagePrivacy = "privacy"

// Privacy is what the processing page tells a recipient (GDPR Art. 14):
// the footer's details, the lists consulted before each send and how
// long the records last.
type Privacy struct {
	Company, PostalAddress, Contact, Source, Purpose, LegalBasis string
	// Lists names the lists checked before each send, the opt-out list
	// included, read at each request so an import shows at once.
	Lists func(ctx context.Context) ([]string, error)
	// SentDays and RefusedDays are the ledger's retention of decisions.
	SentDays, RefusedDays int
}

// privacyData is what the privacy template sees.
type privacyData struct {
	Privacy
	Lists []string
	Lang  string
	Style template.CSS
}

// PrivacyHandler serves the processing page in the language the link
// names (?lang=fr, which the footer writes), else the browser's, with the
// headers of the unsubscribe pages.
type PrivacyHandler struct {
	p     Privacy
	pages *pages
}

// NewPrivacyHandler returns the page, to be mounted at PrivacyPath.
func NewPrivacyHandler(p Privacy) (*PrivacyHandler, error) {
	if p.Lists == nil {
		return nil, errors.New("unsubscribe: the privacy page needs the lists")
	}
	pg, err := loadPages()
	if err != nil {
		return nil, err
	}
	return &PrivacyHandler{p: p, pages: pg}, nil
}

func (h *PrivacyHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	setSecurityHeaders(w.Header())
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		plainError(w, http.StatusMethodNotAllowed)
		return
	}
	lang := h.pages.pick(r.URL.Query().Get("lang"), r.Header.Get("Accept-Language"))
	ctx, cancel := context.WithTimeout(r.Context(), storeTimeout)
	defer cancel()
	names, err := h.p.Lists(ctx)
	if err != nil {
		// A page that names the wrong lists would mislead: none at all.
		plainError(w, http.StatusServiceUnavailable)
		return
	}
	var buf bytes.Buffer
	if err := h.pages.byLang[lang].ExecuteTemplate(&buf, pagePrivacy, privacyData{Privacy: h.p, Lists: names, Lang: lang, Style: template.CSS(style)}); err != nil {
		plainError(w, http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Language", lang)
	w.WriteHeader(http.StatusOK)
	w.Write(buf.Bytes())
}
