package e2e

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/mail"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestFooterAndPageShareLanguage: a CRM contact in France with a .be
// address gets a French footer, and the page its unsubscribe link opens
// on the gateway's web side is French too, whatever the browser asks; a
// .be role address with no contact gets Dutch in both.
func TestFooterAndPageShareLanguage(t *testing.T) {
	dir := t.TempDir()
	up := startUpstream(t)
	addr, web := freeAddr(t), freeAddr(t)
	section := fmt.Sprintf("\n[web]\nlisten = %q\n\n[unsubscribe]\nbase_url = \"http://%s\"\n", web, web)
	cfg := writeConfig(t, dir, relayConfig(dir, addr, up.addr, footerDetails+section))
	addUser(t, "rep@acme.test", "--config", cfg)
	crm := filepath.Join(dir, "crm.csv")
	os.WriteFile(crm, []byte("email;country;type\nmarie@firma.be;FR;business\n"), 0o600)
	mustCLI(t, "", "contacts", "import", crm, "--config", cfg)
	startGateway(t, addr, "--config", cfg)

	want := map[string]struct{ lang, footer, page string }{
		"marie@firma.be": {"fr", "Pour ne plus recevoir", "Désabonnement"},
		"info@firma.be":  {"nl", "niet meer ontvangen", "Afmelden"},
	}
	rcpts := []string{"marie@firma.be", "info@firma.be"}
	if err := sendAs(addr, "rep@acme.test", "rep@acme.test", rcpts, message("rep@acme.test", "marie@firma.be", "lang")); err != nil {
		t.Fatal(err)
	}
	if len(up.deliveries()) != 2 {
		t.Fatalf("%d copies, want 2", len(up.deliveries()))
	}
	for _, d := range up.deliveries() {
		w := want[d.To[0]]
		text := strings.ReplaceAll(string(d.Data), "=\r\n", "")
		if !strings.Contains(text, w.footer) {
			t.Errorf("%s: footer not in %s:\n%s", d.To[0], w.lang, d.Data)
		}
		m, err := mail.ReadMessage(bytes.NewReader(d.Data))
		if err != nil {
			t.Fatal(err)
		}
		link := strings.Trim(strings.Split(m.Header.Get("List-Unsubscribe"), ",")[0], "<> ")
		req, _ := http.NewRequest(http.MethodGet, link, nil)
		req.Header.Set("Accept-Language", "de-DE,de;q=0.9")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		page, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Language") != w.lang || !strings.Contains(string(page), w.page) {
			t.Errorf("%s: page %d in %q, want %s:\n%s", d.To[0], resp.StatusCode, resp.Header.Get("Content-Language"), w.lang, page)
		}
	}
}
