// Package unsubscribe is the recipient's side of an opt-out: the web page
// and one-click endpoint behind the List-Unsubscribe URL (RFC 2369, RFC
// 8058) and the SMTP listener behind its mailto address.
//
// The token in the URL is the capability: it is sealed by the gateway's
// keyring, names the recipient and the organisation, and cannot be forged
// or altered (package token). Whoever holds it may opt that one recipient
// out, which is exactly what RFC 8058 §3.2 asks for: the mail provider
// POSTs it with no cookie, no session and no page of ours in between.
package unsubscribe

import (
	"context"
	"crypto/rand"
	"errors"
	"log/slog"
	"net/http"
	"net/netip"
	"slices"
	"time"

	"github.com/dncgate/dncgate/internal/ratelimit"
	"github.com/dncgate/dncgate/lists"
	"github.com/dncgate/dncgate/unsubscribe/token"
)

// Defaults and bounds of the endpoint.
const (
	// DefaultRatePerMinute is how many requests one client address may
	// make a minute when Options.RatePerMinute is 0.
	DefaultRatePerMinute = 30
	// maxBody bounds a POST body: "List-Unsubscribe=One-Click", a CSRF
	// field or a small multipart form fit many times over.
	maxBody = 64 << 10
	// maxTokenLen bounds the path segment before any work is spent on it;
	// no token sealed for a valid address comes near it.
	maxTokenLen = 1024
	// storeTimeout bounds the store write of one opt-out.
	storeTimeout = 5 * time.Second
	// PathPrefix is where the handler expects to be mounted.
	PathPrefix = "/u/"
)

// OptOuts records an opt-out; recording one twice is not an error.
type OptOuts interface {
	OptOut(ctx context.Context, addr string) error
}

// Options configure the handler. Keyring, Org and OptOuts are required.
type Options struct {
	Keyring *token.Keyring
	// Org is the organisation id tokens must name; a token sealed for
	// another organisation is refused as invalid. Keys.Org, fixed in the
	// key file, rather than the host name, so a rename breaks no link.
	Org string
	// EarlierOrgs are organisations tokens were sealed to before Org, still
	// accepted (Keys.Earlier).
	EarlierOrgs []string
	// Company is the name the pages show; Org when empty.
	Company string
	// Contact is shown on the expired- and invalid-link pages (an address
	// or URL where the recipient can still ask to be removed); optional.
	Contact string
	// MailtoDomain, when the links come with a mailto address, is named
	// on the invalid-link page as another way to opt out.
	MailtoDomain string
	// MaxAge is how old a token may be; 0 accepts any age.
	MaxAge  time.Duration
	OptOuts OptOuts
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	Log *slog.Logger
	// RatePerMinute bounds requests per client address (an IPv6 client
	// counts per /64); DefaultRatePerMinute when 0.
	RatePerMinute int
	// TrustedProxies are the reverse proxies whose X-Forwarded-For names
	// the client; none when empty. Behind a proxy not listed, every
	// client shares its address.
	TrustedProxies []netip.Prefix
	// CSRFKey keys the confirmation form's CSRF field. Every instance
	// behind one URL needs the same key, or a form served by one would
	// be refused by another; a random per-process key when empty.
	CSRFKey []byte
}

// Handler serves GET, HEAD and POST on PathPrefix+TOKEN.
type Handler struct {
	o      Options
	opener opener
	csrf   csrf
	limit  *ratelimit.Limiter
	pages  *pages
	mux    *http.ServeMux
}

// NewHandler returns the unsubscribe endpoint, to be mounted at PathPrefix.
func NewHandler(o Options) (*Handler, error) {
	if o.Keyring == nil || o.Org == "" || o.OptOuts == nil {
		return nil, errors.New("unsubscribe: the handler needs a keyring, an organisation and an opt-out store")
	}
	if o.Company == "" {
		o.Company = o.Org
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.RatePerMinute == 0 {
		o.RatePerMinute = DefaultRatePerMinute
	}
	if len(o.CSRFKey) == 0 {
		o.CSRFKey = make([]byte, 32)
		rand.Read(o.CSRFKey) // never fails (crypto/rand, Go 1.24+)
	}
	pg, err := loadPages()
	if err != nil {
		return nil, err
	}
	h := &Handler{o: o, opener: opener{o.Keyring, append([]string{o.Org}, o.EarlierOrgs...), o.MaxAge, o.Now}, csrf: csrf{key: o.CSRFKey}, limit: ratelimit.New(o.RatePerMinute, rateWindow), pages: pg, mux: http.NewServeMux()}
	h.mux.HandleFunc(PathPrefix+"{token}", h.serveToken)
	return h, nil
}

// ServeHTTP answers every request with the security headers, after the
// per-client rate limit.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	setSecurityHeaders(w.Header())
	if wait, ok := h.limit.Allow(ratelimit.ClientKey(r, h.o.TrustedProxies), h.o.Now()); !ok {
		w.Header().Set("Retry-After", retryAfter(wait))
		plainError(w, http.StatusTooManyRequests)
		return
	}
	h.mux.ServeHTTP(w, r)
}

// serveToken checks the method and the token, then shows the page (GET,
// HEAD) or records the opt-out (POST).
func (h *Handler) serveToken(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead && r.Method != http.MethodPost {
		w.Header().Set("Allow", "GET, HEAD, POST")
		plainError(w, http.StatusMethodNotAllowed)
		return
	}
	tok := r.PathValue("token")
	c, err := h.opener.open(tok)
	if errors.Is(err, token.ErrExpired) {
		// Never a silent success: the recipient is told how to reach the
		// company instead, and a mail provider sees a failure.
		h.o.Log.Info("unsubscribe: expired link", "rcpt", lists.MaskEmail(c.Recipient), "issued", c.Issued)
		h.render(w, r, http.StatusGone, pageExpired, c, "")
		return
	}
	if err != nil {
		h.o.Log.Info("unsubscribe: invalid link", "client", ratelimit.ClientKey(r, h.o.TrustedProxies))
		if r.Method == http.MethodPost {
			// A mail provider's one-click POST gets a status, not a page.
			plainError(w, http.StatusBadRequest)
			return
		}
		// A person gets the other ways to opt out, in their browser's
		// language: nothing in the link can be trusted to say theirs. The
		// page is the same whichever check failed.
		h.render(w, r, http.StatusBadRequest, pageInvalid, token.Claims{}, "")
		return
	}
	if r.Method == http.MethodPost {
		h.post(w, r, tok, c)
		return
	}
	// A GET alone never opts out: link scanners and previews follow GETs
	// (RFC 8058 §1).
	h.render(w, r, http.StatusOK, pageConfirm, c, h.csrf.field(tok))
}

// opener authenticates tokens and checks their organisation and age; the
// endpoint and the mailto listener share it.
type opener struct {
	kr     *token.Keyring
	orgs   []string // the first seals new tokens; all are accepted
	maxAge time.Duration
	now    func() time.Time
}

// open authenticates tok and checks its organisation and age. An expired
// token comes back with its claims, so the answer can speak the
// recipient's language.
func (o opener) open(tok string) (token.Claims, error) {
	if len(tok) > maxTokenLen {
		return token.Claims{}, token.ErrInvalid
	}
	c, err := o.kr.Open(tok)
	if err != nil {
		return token.Claims{}, err
	}
	// A token of another organisation sharing the keys is no better than
	// a forged one here.
	if !slices.Contains(o.orgs, c.Org) {
		return token.Claims{}, token.ErrInvalid
	}
	if o.maxAge > 0 && o.now().Sub(c.Issued) > o.maxAge {
		return c, token.ErrExpired
	}
	return c, nil
}

// post opts the recipient out when the request is an RFC 8058 one-click
// POST or the confirmation form with a valid CSRF field.
func (h *Handler) post(w http.ResponseWriter, r *http.Request, tok string, c token.Claims) {
	rcpt := c.Recipient
	kind, status := h.classify(w, r, tok)
	if status != 0 {
		plainError(w, status)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), storeTimeout)
	defer cancel()
	if err := h.o.OptOuts.OptOut(ctx, rcpt); err != nil {
		h.o.Log.Error("unsubscribe: recording the opt-out failed", "rcpt", lists.MaskEmail(rcpt), "via", kind, "err", err)
		w.Header().Set("Retry-After", "60")
		plainError(w, http.StatusServiceUnavailable)
		return
	}
	h.o.Log.Info("unsubscribed", "rcpt", lists.MaskEmail(rcpt), "via", kind)
	// 200 with the page itself, never a redirect (RFC 8058 §3.2).
	h.render(w, r, http.StatusOK, pageDone, c, "")
}
