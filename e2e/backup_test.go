package e2e

import (
	"bytes"
	"fmt"
	"io"
	"mime/quotedprintable"
	"net/http"
	"net/mail"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/emersion/go-smtp"
)

// footerNoPrivacyURL is footerDetails without privacy_url: the footer
// links to the gateway's processing page.
const footerNoPrivacyURL = `
[footer]
company = "Acme SAS"
postal_address = "1 rue de l'Exemple, Paris"
source = "public websites"
purpose = "offers to businesses"
legal_basis = "legitimate interest"
`

// TestBackupWhileServing: the footer links to the processing page in the
// recipient's language; a backup taken while the gateway runs, restored
// into a new data folder (refused while the gateway runs), still refuses
// the recipient who opted out through the link, and the old link still
// opens.
func TestBackupWhileServing(t *testing.T) {
	up := startUpstream(t)
	section := func(web string) string {
		return fmt.Sprintf("\n[web]\nlisten = %q\n\n[unsubscribe]\nbase_url = \"http://%s\"\n", web, web)
	}
	dir, addr, web := t.TempDir(), freeAddr(t), freeAddr(t)
	cfg := writeConfig(t, dir, relayConfig(dir, addr, up.addr, footerNoPrivacyURL+section(web)))
	addUser(t, "rep@acme.test", "--config", cfg)
	gw := startGateway(t, addr, "--config", cfg)
	if err := sendAs(addr, "rep@acme.test", "rep@acme.test", []string{"jean@prospect.fr"}, message("rep@acme.test", "jean@prospect.fr", "first")); err != nil {
		t.Fatal(err)
	}
	d := up.deliveries()[0]
	m, err := mail.ReadMessage(bytes.NewReader(d.Data))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(quotedprintable.NewReader(m.Body))
	page := "http://" + web + "/privacy?lang=fr"
	if !strings.Contains(string(body), page) {
		t.Fatalf("the footer lacks %s:\n%s", page, body)
	}
	if got := get(t, page); !strings.Contains(got, "Comment nous utilisons votre adresse") || !strings.Contains(got, "offers to businesses") {
		t.Errorf("processing page:\n%s", got)
	}
	link := strings.Trim(strings.Split(m.Header.Get("List-Unsubscribe"), ",")[0], "<> ")
	resp, err := http.Post(link, "application/x-www-form-urlencoded", strings.NewReader("List-Unsubscribe=One-Click"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()

	archive := filepath.Join(t.TempDir(), "live.bak")
	if out, code := cli(t, "", "backup", archive, "--config", cfg); code != 0 || !strings.Contains(out, "keys/unsubscribe.keys") {
		t.Fatalf("backup while serving: exit %d\n%s", code, out)
	}
	if out, code := cli(t, "", "restore", archive, "--config", cfg); code != 1 || !strings.Contains(out, "dncgate serve is running") {
		t.Fatalf("restore while serving: exit %d\n%s", code, out)
	}
	if err := gw.stop(t); err != nil {
		t.Fatal(err)
	}

	dir2, addr2, web2 := t.TempDir(), freeAddr(t), freeAddr(t)
	cfg2 := filepath.Join(dir2, "dncgate.toml")
	if err := os.WriteFile(cfg2, []byte(relayConfig(dir2, addr2, up.addr, footerNoPrivacyURL+section(web2))), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, code := cli(t, "", "restore", archive, "--config", cfg2); code != 0 {
		t.Fatalf("restore: exit %d\n%s", code, out)
	}
	startGateway(t, addr2, "--config", cfg2)
	err = sendAs(addr2, "rep@acme.test", "rep@acme.test", []string{"jean@prospect.fr"}, message("rep@acme.test", "jean@prospect.fr", "again"))
	var se *smtp.SMTPError
	if !asSMTPError(err, &se) || se.Code != 550 || !strings.Contains(se.Message, "opted out") {
		t.Fatalf("send after the restore: %v, want 550 opted out", err)
	}
	old := strings.Replace(link, web, web2, 1)
	if got := get(t, old); !strings.Contains(got, "j***@prospect.fr") {
		t.Errorf("the old link after the restore:\n%s", got)
	}
}

func get(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET %s: %s", url, resp.Status)
	}
	return string(b)
}
