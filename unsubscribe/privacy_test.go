package unsubscribe

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func privacyServer(t *testing.T, lists func(context.Context) ([]string, error)) *httptest.Server {
	t.Helper()
	h, err := NewPrivacyHandler(Privacy{
		Company: `Acme <script>alert(1)</script> & Co`, PostalAddress: "1 rue de l'Exemple, Paris", Contact: "dpo@acme.example",
		Source: "public directories", Purpose: "offers to businesses", LegalBasis: "legitimate interest",
		SentDays: 1096, RefusedDays: 366, Lists: lists,
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

func fixedLists(context.Context) ([]string, error) {
	return []string{"opt-out", "fr-bloctel (FR): Bloctel <list>"}, nil
}

func getPrivacy(t *testing.T, url, acceptLanguage string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if acceptLanguage != "" {
		req.Header.Set("Accept-Language", acceptLanguage)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(b)
}

// The page speaks the language the link names, else the browser's, else
// English, in every language the pages have.
func TestPrivacyLanguages(t *testing.T) {
	srv := privacyServer(t, fixedLists)
	titles := map[string]string{
		"en": "How we use your address", "fr": "Comment nous utilisons votre adresse", "de": "Wie wir Ihre Adresse verwenden",
		"es": "Cómo usamos su dirección", "it": "Come usiamo il suo indirizzo", "nl": "Hoe wij uw adres gebruiken",
	}
	for lang, title := range titles {
		resp, body := getPrivacy(t, srv.URL+PrivacyPath+"?lang="+lang, "en")
		if resp.StatusCode != 200 || resp.Header.Get("Content-Language") != lang || !strings.Contains(body, "<h1>"+title+"</h1>") {
			t.Errorf("?lang=%s: %d %q\n%s", lang, resp.StatusCode, resp.Header.Get("Content-Language"), body)
		}
		for _, want := range []string{"1096", "366", "offers to businesses", "legitimate interest", "public directories", "dpo@acme.example", `<html lang="` + lang + `">`} {
			if !strings.Contains(body, want) {
				t.Errorf("?lang=%s lacks %q", lang, want)
			}
		}
	}
	for accept, want := range map[string]string{"de-CH,de;q=0.9": "de", "nl-BE": "nl", "ja": "en", "": "en"} {
		if resp, _ := getPrivacy(t, srv.URL+PrivacyPath+"?lang=xx", accept); resp.Header.Get("Content-Language") != want {
			t.Errorf("Accept-Language %q: %q, want %q", accept, resp.Header.Get("Content-Language"), want)
		}
	}
}

// Every configured value is escaped; the headers are the unsubscribe
// pages'; only GET and HEAD are served; lists that cannot be read give
// no page.
func TestPrivacyEscapingAndHeaders(t *testing.T) {
	resp, body := getPrivacy(t, privacyServer(t, fixedLists).URL+PrivacyPath, "")
	if strings.Contains(body, "<script>") || strings.Contains(body, "<list>") ||
		!strings.Contains(body, "Acme &lt;script&gt;alert(1)&lt;/script&gt; &amp; Co") || !strings.Contains(body, "<li>fr-bloctel (FR): Bloctel &lt;list&gt;</li>") {
		t.Errorf("values not escaped:\n%s", body)
	}
	if got := resp.Header.Get("Content-Security-Policy"); got != contentSecurityPolicy || !strings.HasPrefix(got, "default-src 'none'") {
		t.Errorf("CSP %q", got)
	}
	if resp.Header.Get("X-Frame-Options") != "DENY" || resp.Header.Get("Referrer-Policy") != "no-referrer" {
		t.Errorf("headers %v", resp.Header)
	}
	post, err := http.Post(privacyServer(t, fixedLists).URL+PrivacyPath, "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	post.Body.Close()
	if post.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST: %d", post.StatusCode)
	}
	broken := func(context.Context) ([]string, error) { return nil, errors.New("store down") }
	if resp, body := getPrivacy(t, privacyServer(t, broken).URL+PrivacyPath, ""); resp.StatusCode != http.StatusServiceUnavailable || strings.Contains(body, "<h1>") {
		t.Errorf("lists unreadable: %d\n%s", resp.StatusCode, body)
	}
}
