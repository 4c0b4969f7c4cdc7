package e2e

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/emersion/go-smtp"
)

// rerouted are the spellings a stock Postfix upstream delivers to
// suppressed@example.net (percent hack, bang path, both behind a +tag).
var rerouted = map[string]string{
	"suppressed%example.net@mail.acme.test":        "%",
	"example.net!suppressed@mail.acme.test":        "!",
	"suppressed+news%example.net@mail.acme.test":   "%",
	"mail.acme.test!example.net!suppressed@a.test": "!",
}

// TestReroutedSpellingsNeverReachUpstream: with suppressed@example.net
// opted out, every spelling a relay could reroute to it is refused at RCPT
// (553 5.1.3, on the drop-and-notify listener too), reaches the upstream
// in no form, and `dncgate check` and the HTTP check report it as an
// invalid address with the reason; '%' at a domain configured for it
// passes.
func TestReroutedSpellingsNeverReachUpstream(t *testing.T) {
	dir := t.TempDir()
	up := startUpstream(t)
	addr, webAddr := freeAddr(t), freeAddr(t)
	extra := fmt.Sprintf("\n[web]\nlisten = %q\n\n[relay]\nreroute_ok_domains = [\"legacy.acme.test\"]\n", webAddr)
	cfg := writeConfig(t, dir, relayConfig(dir, addr, up.addr, extra))
	addUser(t, "rep@acme.test", "--config", cfg)
	mustCLI(t, "", "optout", "add", "suppressed@example.net", "--reason", "asked to stop", "--config", cfg)
	startGateway(t, addr, "--config", cfg)

	c, err := smtp.Dial(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Hello("client.test"); err != nil {
		t.Fatal(err)
	}
	if err := c.Auth(plainAuth("rep@acme.test", password)); err != nil {
		t.Fatal(err)
	}
	if err := c.Mail("rep@acme.test", nil); err != nil {
		t.Fatal(err)
	}
	for rcpt, char := range rerouted {
		err := c.Rcpt(rcpt, nil)
		var se *smtp.SMTPError
		want := "<" + rcpt + ">: local part contains '" + char + "', which a mail server may reroute (ref "
		if !asSMTPError(err, &se) || se.Code != 553 || se.EnhancedCode != (smtp.EnhancedCode{5, 1, 3}) || !strings.HasPrefix(se.Message, want) {
			t.Errorf("RCPT %s: %v; want 553 5.1.3 %s…", rcpt, err, want)
		}
	}
	for _, ok := range []string{"ok@firma.fr", "dept%sales@legacy.acme.test"} {
		if err := c.Rcpt(ok, nil); err != nil {
			t.Fatalf("RCPT %s: %v", ok, err)
		}
	}
	w, err := c.Data()
	if err != nil {
		t.Fatal(err)
	}
	w.Write(message("rep@acme.test", "ok@firma.fr", "reroute-1"))
	if err := w.Close(); err != nil {
		t.Fatalf("DATA: %v", err)
	}
	c.Quit()
	for _, d := range up.deliveries() {
		for _, to := range d.To {
			if to != "ok@firma.fr" && to != "dept%sales@legacy.acme.test" {
				t.Errorf("the upstream received mail for %s", to)
			}
		}
	}
	if n := up.count(); n["ok@firma.fr"] != 1 || n["dept%sales@legacy.acme.test"] != 1 {
		t.Fatalf("upstream received %v, want the two allowed recipients once each", n)
	}

	args := []string{"check", "--config", cfg, "dept%sales@legacy.acme.test"}
	for rcpt := range rerouted {
		args = append(args, rcpt)
	}
	out, code := cli(t, "", args...)
	if code != 1 {
		t.Fatalf("check exited %d, want 1:\n%s", code, out)
	}
	lines := map[string]string{}
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if f := strings.Fields(l); len(f) > 1 {
			lines[f[0]] = strings.Join(f[1:], " ")
		}
	}
	for rcpt, char := range rerouted {
		if want := "refused address: local part contains '" + char + "', which a mail server may reroute"; lines[rcpt] != want {
			t.Errorf("check %s: %q, want %q", rcpt, lines[rcpt], want)
		}
	}
	if got := lines["dept%sales@legacy.acme.test"]; got != "allowed allowed" {
		t.Errorf("check of the reroute-ok domain: %q, want allowed", got)
	}
	checkAPIReroute(t, webAddr)
}

// checkAPIReroute asks the HTTP check about a rerouted spelling.
func checkAPIReroute(t *testing.T, webAddr string) {
	t.Helper()
	body := `{"recipients": ["suppressed%example.net@mail.acme.test"]}`
	req, _ := http.NewRequest(http.MethodPost, "http://"+webAddr+"/api/v1/check", strings.NewReader(body))
	req.SetBasicAuth("rep@acme.test", password)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	want := `"verdict":"refused","code":"address","reason":"local part contains '%', which a mail server may reroute"`
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(b), want) {
		t.Fatalf("check API: %d %s; want %s", resp.StatusCode, b, want)
	}
}
