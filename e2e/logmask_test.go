package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/emersion/go-smtp"
)

// TestLogMasksRecipients runs the built binary through allowed, left-out,
// refused, upstream-refused and retried recipients, then scans every line
// the gateway logged at info level or above for each full address used:
// the README promises masked addresses.
func TestLogMasksRecipients(t *testing.T) {
	dir := t.TempDir()
	up := startUpstream(t)
	addr, strict, webAddr := freeAddr(t), freeAddr(t), freeAddr(t)
	cfg := writeConfig(t, dir, relayConfig(dir, addr, up.addr, checkConfig(strict, webAddr)))
	addUser(t, "rep@acme.test", "--config", cfg)
	phones := filepath.Join(dir, "be.csv")
	crm := filepath.Join(dir, "crm.csv")
	os.WriteFile(phones, []byte("0470 12 34 56\n"), 0o600)
	os.WriteFile(crm, []byte("email;mobile;country\njan@firma.be;+32 470 12 34 56;BE\n"), 0o600)
	mustCLI(t, "", "lists", "import", "be-dncm", phones, "--config", cfg)
	mustCLI(t, "", "contacts", "import", crm, "--config", cfg)
	mustCLI(t, "", "lists", "add", "opt-out", "gone@firma.fr", "--reason", "asked by phone", "--config", cfg)
	g := startGateway(t, addr, "--config", cfg)

	used := []string{"ok@firma.fr", "jan@firma.be", "gone@firma.fr", "bounce@firma.fr"}
	body := message("rep@acme.test", "ok@firma.fr", "masked")
	// Allowed, left out twice; then the same message again: already delivered.
	for range 2 {
		if err := sendAs(addr, "rep@acme.test", "rep@acme.test", used[:3], body); err != nil {
			t.Fatalf("drop-and-notify send: %v", err)
		}
	}
	// Refused at RCPT on the reject listener.
	var se *smtp.SMTPError
	if err := sendAs(strict, "rep@acme.test", "rep@acme.test", used[1:2], body); !asSMTPError(err, &se) || se.Code != 550 {
		t.Fatalf("reject listener: %v", err)
	}
	// Refused by the upstream, which names the address in its reply.
	up.failNext("bounce@firma.fr", &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1},
		Message: "<bounce@firma.fr>: no such user"})
	if err := sendAs(addr, "rep@acme.test", "rep@acme.test", used[3:], message("rep@acme.test", "bounce@firma.fr", "bounce")); !asSMTPError(err, &se) || se.Code != 550 {
		t.Fatalf("upstream refusal: %v", err)
	}
	if n := up.count(); n["ok@firma.fr"] != 1 {
		t.Fatalf("upstream received %v, want one copy for ok@firma.fr", n)
	}
	g.stop(t)

	scanned := 0
	for _, line := range strings.Split(g.log.String(), "\n") {
		var rec struct{ Level string }
		if json.Unmarshal([]byte(line), &rec) != nil || rec.Level == "DEBUG" {
			continue
		}
		scanned++
		for _, a := range used {
			if strings.Contains(line, a) {
				t.Errorf("a %s line names %s in full: %s", rec.Level, a, line)
			}
		}
	}
	if scanned < 10 {
		t.Fatalf("only %d lines at info level or above:\n%s", scanned, g.log.String())
	}
}
