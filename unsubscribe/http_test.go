package unsubscribe_test

import (
	"bytes"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/dncgate/dncgate/unsubscribe"
)

// site is a handler on an httptest server with its clock and stores.
type site struct {
	*httptest.Server
	clock *clock
	kr    interface {
		Seal(string, string, time.Time) string
	}
	stores storePair
}

func newSite(t *testing.T, p storePair, tune func(*unsubscribe.Options)) *site {
	t.Helper()
	s := &site{clock: newClock(start), stores: withOptOutList(t, p)}
	kr := testKeyring(t)
	s.kr = kr
	o := unsubscribe.Options{
		Keyring: kr, Org: testOrg, Company: "ACME Corp", MaxAge: 30 * 24 * time.Hour,
		OptOuts: listOptOuts{p.writer}, Now: s.clock.Now, RatePerMinute: 1000,
	}
	if tune != nil {
		tune(&o)
	}
	h, err := unsubscribe.NewHandler(o)
	if err != nil {
		t.Fatal(err)
	}
	s.Server = httptest.NewServer(h)
	t.Cleanup(s.Close)
	return s
}

// link is the unsubscribe URL of rcpt, issued now.
func (s *site) link(rcpt string) string {
	return s.URL + unsubscribe.PathPrefix + s.kr.Seal(rcpt, testOrg, s.clock.Now())
}

type reply struct {
	code   int
	header http.Header
	body   string
}

// do sends a request without following redirects, so a Location shows.
func do(t *testing.T, method, u, contentType string, body io.Reader) reply {
	t.Helper()
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return reply{resp.StatusCode, resp.Header, string(b)}
}

// doLang GETs u as a browser asking for languages.
func doLang(t *testing.T, u, acceptLanguage string) reply {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept-Language", acceptLanguage)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return reply{resp.StatusCode, resp.Header, string(b)}
}

func postForm(t *testing.T, u string, v url.Values) reply {
	return do(t, http.MethodPost, u, "application/x-www-form-urlencoded", strings.NewReader(v.Encode()))
}

func oneClickMultipart(t *testing.T, u string) reply {
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	mw.WriteField("List-Unsubscribe", "One-Click")
	mw.Close()
	return do(t, http.MethodPost, u, mw.FormDataContentType(), &b)
}

func (r reply) want(t *testing.T, code int, contains ...string) {
	t.Helper()
	if r.code != code {
		t.Fatalf("status %d, want %d; body:\n%s", r.code, code, r.body)
	}
	for _, c := range contains {
		if !strings.Contains(r.body, c) {
			t.Errorf("body lacks %q:\n%s", c, r.body)
		}
	}
}

// wantDone checks an opt-out answer: 200, no redirect, the done page.
func (r reply) wantDone(t *testing.T) {
	t.Helper()
	r.want(t, http.StatusOK, `id="done"`)
	if loc := r.header.Get("Location"); loc != "" {
		t.Errorf("opt-out answered with Location %q; RFC 8058 wants no redirect", loc)
	}
}

func stores(t *testing.T) []storePair {
	return []storePair{embeddedPair(t), redisPair(t)}
}

func TestEndpoint(t *testing.T) {
	for _, p := range stores(t) {
		t.Run(p.name, func(t *testing.T) {
			s := newSite(t, p, nil)
			t.Run("get", func(t *testing.T) { checkGet(t, s) })
			t.Run("one-click", func(t *testing.T) { checkOneClick(t, s) })
			t.Run("form", func(t *testing.T) { checkForm(t, s) })
			t.Run("refusals", func(t *testing.T) { checkRefusals(t, s) })
			t.Run("expired", func(t *testing.T) { checkExpired(t, s) })
		})
	}
}

func checkGet(t *testing.T, s *site) {
	u := s.link("jeanne.martin@acme.fr")
	r := do(t, http.MethodGet, u, "", nil)
	r.want(t, http.StatusOK, `<html lang="fr">`, "j***@acme.fr", "ACME Corp", "Me désabonner", `name="csrf"`)
	if strings.Contains(r.body, "jeanne") {
		t.Error("the page shows the address unmasked")
	}
	wantSecurityHeaders(t, r.header)
	h := do(t, http.MethodHead, u, "", nil)
	h.want(t, http.StatusOK)
	if h.body != "" {
		t.Errorf("HEAD answered with a body: %q", h.body)
	}
	if optedOut(t, s.stores.other, "jeanne.martin@acme.fr") {
		t.Fatal("GET or HEAD opted the recipient out")
	}
}

func wantSecurityHeaders(t *testing.T, h http.Header) {
	t.Helper()
	csp := h.Get("Content-Security-Policy")
	if !strings.HasPrefix(csp, "default-src 'none'; style-src 'sha256-") {
		t.Errorf("Content-Security-Policy = %q", csp)
	}
	for k, v := range map[string]string{"X-Frame-Options": "DENY", "Referrer-Policy": "no-referrer", "Cache-Control": "no-store"} {
		if h.Get(k) != v {
			t.Errorf("%s = %q, want %q", k, h.Get(k), v)
		}
	}
}

func checkOneClick(t *testing.T, s *site) {
	posts := map[string]func(u string) reply{
		"form":      func(u string) reply { return postForm(t, u, url.Values{"List-Unsubscribe": {"One-Click"}}) },
		"multipart": func(u string) reply { return oneClickMultipart(t, u) },
		"empty":     func(u string) reply { return do(t, http.MethodPost, u, "", nil) },
	}
	for kind, post := range posts {
		rcpt := kind + "@example.de"
		u := s.link(rcpt)
		post(u).wantDone(t)
		// The other instance sees the opt-out at once.
		if !optedOut(t, s.stores.other, rcpt) {
			t.Errorf("%s one-click POST: the store does not hold the opt-out", kind)
		}
		post(u).wantDone(t) // idempotent
	}
}

var csrfValue = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func checkForm(t *testing.T, s *site) {
	u := s.link("form.user@example.it")
	postForm(t, u, url.Values{"confirm": {"1"}}).want(t, http.StatusForbidden)
	postForm(t, u, url.Values{"csrf": {"AAAA"}}).want(t, http.StatusForbidden)
	// The CSRF field of another link is no good for this one.
	other := csrfValue.FindStringSubmatch(do(t, http.MethodGet, s.link("x@example.it"), "", nil).body)
	postForm(t, u, url.Values{"csrf": {other[1]}}).want(t, http.StatusForbidden)
	if optedOut(t, s.stores.other, "form.user@example.it") {
		t.Fatal("a form POST without a valid CSRF field opted out")
	}
	m := csrfValue.FindStringSubmatch(do(t, http.MethodGet, u, "", nil).body)
	r := postForm(t, u, url.Values{"csrf": {m[1]}})
	r.wantDone(t)
	r.want(t, http.StatusOK, `<html lang="it">`, "f***@example.it")
	if !optedOut(t, s.stores.other, "form.user@example.it") {
		t.Fatal("the confirmation form did not opt out")
	}
}

func checkRefusals(t *testing.T, s *site) {
	good := s.kr.Seal("victim@example.fr", testOrg, s.clock.Now())
	tampered := []byte(good)
	tampered[len(tampered)/2] ^= 'A' ^ 'B'
	if tampered[len(tampered)/2] == good[len(good)/2] {
		tampered[len(tampered)/2] = 'C'
	}
	bad := map[string]string{
		"tampered":  string(tampered),
		"other org": s.kr.Seal("victim@example.fr", "globex", s.clock.Now()),
		"garbage":   "not-a-token",
		"too long":  strings.Repeat("A", 5000),
	}
	pages := map[string]bool{}
	for name, tok := range bad {
		// A mail provider's POST gets a bare status.
		r := do(t, http.MethodPost, s.URL+unsubscribe.PathPrefix+tok, "", nil)
		if r.code != http.StatusBadRequest || r.body != "Bad Request\n" {
			t.Errorf("POST %s token: %d %q, want 400 with no detail", name, r.code, r.body)
		}
		// A person gets a page with the other ways out, in the browser's
		// language, the same whichever check failed.
		g := doLang(t, s.URL+unsubscribe.PathPrefix+tok, "de-CH,de;q=0.9")
		g.want(t, http.StatusBadRequest, `<html lang="de">`, `id="invalid"`, "ACME Corp")
		if g.header.Get("Content-Type") != "text/html; charset=utf-8" {
			t.Errorf("GET %s token: Content-Type %q", name, g.header.Get("Content-Type"))
		}
		wantSecurityHeaders(t, g.header)
		pages[g.body] = true
	}
	if len(pages) != 1 {
		t.Errorf("the invalid-link pages differ between causes: %d versions", len(pages))
	}
	if optedOut(t, s.stores.other, "victim@example.fr") {
		t.Error("an invalid token opted out")
	}
	u := s.link("big@example.fr")
	big := strings.NewReader("List-Unsubscribe=One-Click&pad=" + strings.Repeat("x", 70<<10))
	do(t, http.MethodPost, u, "application/x-www-form-urlencoded", big).want(t, http.StatusRequestEntityTooLarge)
	do(t, http.MethodPost, u, "text/plain", strings.NewReader("hello")).want(t, http.StatusUnsupportedMediaType)
	r := do(t, http.MethodPut, u, "", nil)
	r.want(t, http.StatusMethodNotAllowed)
	if r.header.Get("Allow") != "GET, HEAD, POST" {
		t.Errorf("405 Allow = %q", r.header.Get("Allow"))
	}
	if optedOut(t, s.stores.other, "big@example.fr") {
		t.Error("a refused POST opted out")
	}
}

func checkExpired(t *testing.T, s *site) {
	u := s.link("old@example.es")
	s.clock.Advance(31 * 24 * time.Hour)
	defer s.clock.Advance(-31 * 24 * time.Hour)
	do(t, http.MethodGet, u, "", nil).want(t, http.StatusGone, `<html lang="es">`, "responda al mensaje")
	r := do(t, http.MethodPost, u, "", nil)
	r.want(t, http.StatusGone, "o***@example.es")
	if optedOut(t, s.stores.other, "old@example.es") {
		t.Error("an expired token opted out")
	}
}

func TestRateLimit(t *testing.T) {
	s := newSite(t, embeddedPair(t), func(o *unsubscribe.Options) { o.RatePerMinute = 3 })
	u := s.link("someone@example.nl")
	for range 3 {
		do(t, http.MethodGet, u, "", nil).want(t, http.StatusOK)
	}
	r := do(t, http.MethodGet, u, "", nil)
	r.want(t, http.StatusTooManyRequests)
	if r.header.Get("Retry-After") != "30" { // the clock stands 30 s into its minute
		t.Errorf("Retry-After = %q, want 30", r.header.Get("Retry-After"))
	}
	do(t, http.MethodPost, u, "", nil).want(t, http.StatusTooManyRequests)
	s.clock.Advance(30 * time.Second)
	do(t, http.MethodGet, u, "", nil).want(t, http.StatusOK, `<html lang="nl">`)
}

// TestRateLimitBehindProxy: behind a trusted proxy each client counts on
// its own, by the last X-Forwarded-For hop that is no trusted proxy.
func TestRateLimitBehindProxy(t *testing.T) {
	s := newSite(t, embeddedPair(t), func(o *unsubscribe.Options) {
		o.RatePerMinute = 2
		o.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	})
	u := s.link("someone@example.nl")
	get := func(xff string) int {
		req, _ := http.NewRequest(http.MethodGet, u, nil)
		if xff != "" {
			req.Header.Set("X-Forwarded-For", xff)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	steps := []struct {
		xff  string
		want int
	}{
		{"203.0.113.5", 200},
		{"198.51.100.1, 203.0.113.5", 200}, // a forged first hop changes nothing
		{"203.0.113.5, 127.0.0.1", 429},    // through a second local proxy
		{"203.0.113.6", 200},
		{"2001:db8:1:2::1", 200},
		{"2001:db8:1:2::2", 200},      // the same /64
		{"2001:db8:1:2:ffff::3", 429}, // still the same /64
		{"", 200},                     // the proxy itself
	}
	for _, st := range steps {
		if got := get(st.xff); got != st.want {
			t.Errorf("X-Forwarded-For %q: %d, want %d", st.xff, got, st.want)
		}
	}
}

// TestForwardedForNotTrusted: with no trusted proxy (the default, even
// for a loopback peer), X-Forwarded-For is ignored, so a client cannot
// dodge the limit by sending one.
func TestForwardedForNotTrusted(t *testing.T) {
	s := newSite(t, embeddedPair(t), func(o *unsubscribe.Options) { o.RatePerMinute = 1 })
	u := s.link("someone@example.nl")
	for i, want := range []int{200, 429} {
		req, _ := http.NewRequest(http.MethodGet, u, nil)
		req.Header.Set("X-Forwarded-For", fmt.Sprintf("203.0.113.%d", i))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("request %d: %d, want %d", i, resp.StatusCode, want)
		}
	}
}

func TestLanguage(t *testing.T) {
	s := newSite(t, embeddedPair(t), nil)
	cases := []struct{ rcpt, accept, lang string }{
		{"a@example.fr", "de", "fr"},              // the ccTLD wins
		{"a@example.co.uk", "", "en"},             // GB: English
		{"a@example.com", "de-AT,de;q=0.9", "de"}, // no ccTLD: the browser's
		{"a@example.com", "pt-BR", "en"},          // nothing shipped: English
		{"a@example.be", "fr-BE", "nl"},           // Belgium's majority language
	}
	for _, c := range cases {
		req, _ := http.NewRequest(http.MethodGet, s.link(c.rcpt), nil)
		req.Header.Set("Accept-Language", c.accept)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if want := `<html lang="` + c.lang + `">`; !strings.Contains(string(b), want) {
			t.Errorf("%s with Accept-Language %q: page lacks %s", c.rcpt, c.accept, want)
		}
	}
}
