package e2e

import (
	"bytes"
	"fmt"
	"net/http"
	"net/mail"
	"strings"
	"testing"

	"github.com/emersion/go-smtp"
)

// TestLinksOutliveRename: a link sent before server.hostname changed
// still opts out after the gateway restarts under the new name, since the
// organisation is fixed in the key file; a link cut short gets a page,
// not a bare 400.
func TestLinksOutliveRename(t *testing.T) {
	dir := t.TempDir()
	up := startUpstream(t)
	addr, web := freeAddr(t), freeAddr(t)
	section := fmt.Sprintf("\n[web]\nlisten = %q\n\n[unsubscribe]\nbase_url = \"http://%s\"\nmailto_domain = \"unsub.acme.test\"\n", web, web)
	text := relayConfig(dir, addr, up.addr, footerDetails+section)
	cfg := writeConfig(t, dir, strings.Replace(text, `hostname = "gw.test"`, `hostname = "gw-old.test"`, 1))
	addUser(t, "rep@acme.test", "--config", cfg)
	g := startGateway(t, addr, "--config", cfg)
	if err := sendAs(addr, "rep@acme.test", "rep@acme.test", []string{"jean@prospect.fr"}, message("rep@acme.test", "jean@prospect.fr", "before")); err != nil {
		t.Fatal(err)
	}
	m, err := mail.ReadMessage(bytes.NewReader(up.deliveries()[0].Data))
	if err != nil {
		t.Fatal(err)
	}
	link := strings.Trim(strings.Split(m.Header.Get("List-Unsubscribe"), ",")[0], "<> ")
	if err := g.stop(t); err != nil {
		t.Fatalf("stopping: %v", err)
	}

	cfg = writeConfig(t, dir, strings.Replace(text, `hostname = "gw.test"`, `hostname = "gw-new.test"`, 1))
	startGateway(t, addr, "--config", cfg)
	req, _ := http.NewRequest(http.MethodGet, link[:len(link)-5], nil)
	req.Header.Set("Accept-Language", "fr")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var page bytes.Buffer
	page.ReadFrom(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(page.String(), "Ce lien est inutilisable") ||
		!strings.Contains(page.String(), "unsub.acme.test") {
		t.Errorf("a cut link: %d\n%s", resp.StatusCode, page.String())
	}
	resp, err = http.Post(link, "application/x-www-form-urlencoded", strings.NewReader("List-Unsubscribe=One-Click"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("one-click POST after the rename: %d, want 200", resp.StatusCode)
	}
	err = sendAs(addr, "rep@acme.test", "rep@acme.test", []string{"jean@prospect.fr"}, message("rep@acme.test", "jean@prospect.fr", "after"))
	var se *smtp.SMTPError
	if !asSMTPError(err, &se) || se.Code != 550 || !strings.Contains(se.Message, "opted out") {
		t.Fatalf("send after the opt-out: %v, want 550 naming the opt-out", err)
	}
}
