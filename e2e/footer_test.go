package e2e

import (
	"bytes"
	"net/mail"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/dncgate/dncgate/unsubscribe"
)

const footerSection = `
[footer]
company = "Acme SAS"
postal_address = "1 rue de l'Exemple, Paris"
privacy_url = "https://acme.test/privacy"
source = "public websites"
purpose = "offers to businesses"
legal_basis = "legitimate interest"

[unsubscribe]
base_url = "https://unsub.acme.test"
mailto_domain = "unsub.acme.test"
org = "acme"
`

var unsubHeader = regexp.MustCompile(`^<https://unsub\.acme\.test/u/([A-Za-z0-9_-]+)>, <mailto:unsubscribe\+([A-Za-z0-9_-]+)@unsub\.acme\.test>$`)

// TestFooterPerRecipient: one message to two recipients reaches the
// upstream as two copies, each with its own token in List-Unsubscribe and
// its own link in the footer, in the recipient's language; the tokens open
// with the keys the gateway created in its data folder.
func TestFooterPerRecipient(t *testing.T) {
	dir := t.TempDir()
	up := startUpstream(t)
	addr := freeAddr(t)
	cfg := writeConfig(t, dir, relayConfig(dir, addr, up.addr, footerSection))
	addUser(t, "rep@acme.test", "--config", cfg)
	startGateway(t, addr, "--config", cfg)

	rcpts := []string{"jean@prospect.fr", "john@prospect.com"}
	body := []byte("From: Sam Rep <rep@acme.test>\r\nTo: <jean@prospect.fr>, <john@prospect.com>\r\n" +
		"Subject: hello\r\n\r\nHello from the e2e test.\r\n")
	if err := sendAs(addr, "rep@acme.test", "rep@acme.test", rcpts, body); err != nil {
		t.Fatal(err)
	}
	kr, err := unsubscribe.LoadKeyring(filepath.Join(dir, "unsubscribe.keys"), false)
	if err != nil {
		t.Fatalf("the gateway's token keys: %v", err)
	}
	want := map[string]string{"jean@prospect.fr": "Pour ne plus recevoir", "john@prospect.com": "To stop receiving"}
	tokens := map[string]bool{}
	for _, d := range up.deliveries() {
		rcpt := d.To[0]
		if _, ok := want[rcpt]; !ok {
			t.Fatalf("a copy went to %s:\n%s", rcpt, d.Data)
		}
		m, err := mail.ReadMessage(bytes.NewReader(d.Data))
		if err != nil {
			t.Fatal(err)
		}
		g := unsubHeader.FindStringSubmatch(m.Header.Get("List-Unsubscribe"))
		if g == nil || g[1] != g[2] {
			t.Fatalf("%s: List-Unsubscribe = %q", rcpt, m.Header.Get("List-Unsubscribe"))
		}
		if m.Header.Get("List-Unsubscribe-Post") != "List-Unsubscribe=One-Click" || m.Header.Get("Message-Id") == "" {
			t.Errorf("%s: header\n%v", rcpt, m.Header)
		}
		c, err := kr.OpenFresh(g[1], time.Now(), time.Hour)
		if err != nil || c.Recipient != rcpt || c.Org != "acme" {
			t.Errorf("%s: token opens to %+v, %v", rcpt, c, err)
		}
		tokens[g[1]] = true
		// The footer is quoted-printable: undo its soft line breaks.
		text := strings.ReplaceAll(string(d.Data), "=\r\n", "")
		if !strings.Contains(text, "https://unsub.acme.test/u/"+g[1]) {
			t.Errorf("%s: the body lacks its own unsubscribe URL:\n%s", rcpt, d.Data)
		}
		if !strings.Contains(text, want[rcpt]) {
			t.Errorf("%s: footer not in the recipient's language (%q):\n%s", rcpt, want[rcpt], d.Data)
		}
	}
	if len(up.deliveries()) != 2 || len(tokens) != 2 {
		t.Fatalf("%d copies with %d distinct tokens, want 2 and 2", len(up.deliveries()), len(tokens))
	}
}

// TestFooterOff: with [footer] enabled = false the message goes as written.
func TestFooterOff(t *testing.T) {
	dir := t.TempDir()
	up := startUpstream(t)
	addr := freeAddr(t)
	cfg := writeConfig(t, dir, relayConfig(dir, addr, up.addr, "\n[footer]\nenabled = false\n"))
	addUser(t, "rep@acme.test", "--config", cfg)
	startGateway(t, addr, "--config", cfg)
	body := message("rep@acme.test", "a@prospect.fr", "plain")
	if err := sendAs(addr, "rep@acme.test", "rep@acme.test", []string{"a@prospect.fr"}, body); err != nil {
		t.Fatal(err)
	}
	d := up.deliveries()
	if len(d) != 1 || !bytes.Equal(d[0].Data, body) {
		t.Errorf("the footer-off copy differs from what was sent:\n%s", d[0].Data)
	}
}
