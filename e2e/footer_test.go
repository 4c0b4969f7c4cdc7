package e2e

import (
	"bytes"
	"fmt"
	"net/http"
	"net/mail"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/dncgate/dncgate/internal/testredis"
	"github.com/dncgate/dncgate/unsubscribe"
	"github.com/emersion/go-smtp"
)

// footerSection is footerDetails with links to a public unsubscribe host.
const footerSection = footerDetails + `
[unsubscribe]
base_url = "https://unsub.acme.test"
mailto_domain = "unsub.acme.test"
org = "acme"
`

const footerDetails = `
[footer]
company = "Acme SAS"
postal_address = "1 rue de l'Exemple, Paris"
privacy_url = "https://acme.test/privacy"
source = "public websites"
purpose = "offers to businesses"
legal_basis = "legitimate interest"
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
	// As written, under the trace fields every copy gets: Received, and
	// Date since the message has none.
	d := up.deliveries()
	if len(d) != 1 {
		t.Fatalf("%d deliveries, want 1", len(d))
	}
	trace, rest, ok := bytes.Cut(d[0].Data, []byte("From: "))
	if !ok || !bytes.Equal(append([]byte("From: "), rest...), body) ||
		!bytes.HasPrefix(trace, []byte("Received: by gw.test (dncgate) with ESMTPA id ")) ||
		bytes.Count(trace, []byte("\r\nDate: ")) != 1 {
		t.Errorf("the footer-off copy differs from what was sent:\n%s", d[0].Data)
	}
}

// TestOneClickThenRefused: a one-click POST to one recipient's link opts
// that person out, and the next send to them is refused while the other
// recipient still gets mail; on Redis the POST reaches one instance and
// the send goes through another.
func TestOneClickThenRefused(t *testing.T) {
	t.Run("embedded", func(t *testing.T) { oneClickScenario(t, "", 1) })
	t.Run("redis", func(t *testing.T) {
		extra := fmt.Sprintf("\n[store]\nbackend = \"redis\"\nredis_url = \"redis://%s/0\"\n\n[privacy]\nhmac_key = %q\n",
			testredis.Start(t), hmacKey)
		oneClickScenario(t, extra, 2)
	})
}

func oneClickScenario(t *testing.T, extra string, instances int) {
	up := startUpstream(t)
	keys := filepath.Join(t.TempDir(), "unsubscribe.keys")
	var smtpAddrs, webAddrs []string
	for i := range instances {
		dir := t.TempDir()
		addr, web := freeAddr(t), freeAddr(t)
		section := fmt.Sprintf(`
[web]
listen = %q

[unsubscribe]
base_url = "http://%s"
keys_file = %q
`, web, web, keys)
		cfg := writeConfig(t, dir, relayConfig(dir, addr, up.addr, footerDetails+section+extra))
		if i == 0 {
			addUser(t, "rep@acme.test", "--config", cfg)
		}
		startGateway(t, addr, "--config", cfg)
		smtpAddrs, webAddrs = append(smtpAddrs, addr), append(webAddrs, web)
	}
	rcpts := []string{"jean@prospect.fr", "john@prospect.com"}
	if err := sendAs(smtpAddrs[0], "rep@acme.test", "rep@acme.test", rcpts, message("rep@acme.test", "jean@prospect.fr", "first")); err != nil {
		t.Fatal(err)
	}
	link := ""
	for _, d := range up.deliveries() {
		m, err := mail.ReadMessage(bytes.NewReader(d.Data))
		if err != nil {
			t.Fatal(err)
		}
		if d.To[0] == "jean@prospect.fr" {
			link = strings.Trim(strings.Split(m.Header.Get("List-Unsubscribe"), ",")[0], "<> ")
		}
	}
	if !strings.HasPrefix(link, "http://"+webAddrs[0]+"/u/") {
		t.Fatalf("jean's link %q", link)
	}
	// The mail provider posts to the instance the link names.
	resp, err := http.Post(link, "application/x-www-form-urlencoded", strings.NewReader("List-Unsubscribe=One-Click"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Location") != "" {
		t.Fatalf("one-click POST: %d, Location %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	last := smtpAddrs[len(smtpAddrs)-1]
	err = sendAs(last, "rep@acme.test", "rep@acme.test", []string{"jean@prospect.fr"}, message("rep@acme.test", "jean@prospect.fr", "second"))
	var se *smtp.SMTPError
	if !asSMTPError(err, &se) || se.Code != 550 || !strings.Contains(se.Message, "<jean@prospect.fr>: the recipient opted out") {
		t.Fatalf("send after the opt-out: %v, want 550 naming the opt-out", err)
	}
	if err := sendAs(last, "rep@acme.test", "rep@acme.test", []string{"john@prospect.com"}, message("rep@acme.test", "john@prospect.com", "third")); err != nil {
		t.Fatalf("the other recipient: %v", err)
	}
}
