package e2e

import (
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/mail"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dncgate/dncgate/internal/testredis"
	"github.com/emersion/go-smtp"
)

// checkConfig declares the Belgian list in the configuration and adds a
// second listener that rejects at RCPT.
func checkConfig(rejectAddr, webAddr string) string {
	return fmt.Sprintf(`
[web]
listen = %q

[[listener]]
name = "strict"
address = %q
tls = "none"
on_refusal = "reject"

[[lists]]
name = "be-dncm"
kind = "phone"
model = "deny"
countries = ["BE"]
max_age = "5d"
source = "Do Not Call Me"

[[policy.rule]]
country = "BE"
business = "allow"
`, webAddr, rejectAddr)
}

func TestRecipientCheckEmbedded(t *testing.T) {
	dir := t.TempDir()
	checkScenario(t, dir, "")
}

func TestRecipientCheckRedis(t *testing.T) {
	extra := fmt.Sprintf("\n[store]\nbackend = \"redis\"\nredis_url = \"redis://%s/0\"\n\n[privacy]\nhmac_key = %q\n",
		testredis.Start(t), hmacKey)
	checkScenario(t, t.TempDir(), extra)
}

// checkScenario imports a national list and CRM contacts with the CLI,
// opts someone out, then sends through the running gateway: the
// drop-and-notify listener delivers to the allowed recipient and reports
// the others to the rep; the reject listener refuses them at RCPT.
func checkScenario(t *testing.T, dir, extra string) {
	up := startUpstream(t)
	addr, strict, webAddr := freeAddr(t), freeAddr(t), freeAddr(t)
	cfg := writeConfig(t, dir, relayConfig(dir, addr, up.addr, checkConfig(strict, webAddr)+extra))
	addUser(t, "rep@acme.test", "--config", cfg)
	phones := filepath.Join(dir, "be.csv")
	crm := filepath.Join(dir, "crm.csv")
	os.WriteFile(phones, []byte("0470 12 34 56\n"), 0o600)
	os.WriteFile(crm, []byte("email;mobile;country\njan@firma.be;+32 470 12 34 56;BE\n"), 0o600)
	mustCLI(t, "", "lists", "import", "be-dncm", phones, "--config", cfg)
	mustCLI(t, "", "contacts", "import", crm, "--config", cfg)
	mustCLI(t, "", "lists", "add", "opt-out", "gone@firma.fr", "--reason", "asked by phone", "--config", cfg)
	startGateway(t, addr, "--config", cfg)

	rcpts := []string{"ok@firma.fr", "jan@firma.be", "gone@firma.fr"}
	if err := sendAs(addr, "rep@acme.test", "rep@acme.test", rcpts, message("rep@acme.test", "ok@firma.fr", "campaign-1")); err != nil {
		t.Fatalf("drop-and-notify send: %v", err)
	}
	if n := up.count(); n["ok@firma.fr"] != 1 || n["jan@firma.be"] != 0 || n["gone@firma.fr"] != 0 {
		t.Fatalf("upstream received %v", n)
	}
	checkLeftOutReport(t, up, map[string]string{"jan@firma.be": "list:be-dncm", "gone@firma.fr": "opt-out"})

	err := sendAs(strict, "rep@acme.test", "rep@acme.test", []string{"jan@firma.be"}, message("rep@acme.test", "jan@firma.be", "campaign-2"))
	var se *smtp.SMTPError
	if !asSMTPError(err, &se) || se.Code != 550 || se.EnhancedCode != (smtp.EnhancedCode{5, 7, 1}) ||
		!strings.Contains(se.Message, "<jan@firma.be>: on the be-dncm list (phone match) [list:be-dncm]") {
		t.Fatalf("reject listener: got %v, want 550 5.7.1 naming be-dncm", err)
	}
	checkAPI(t, webAddr)
}

// checkAPI asks the HTTP check as a CRM would, with a rep's credentials.
func checkAPI(t *testing.T, webAddr string) {
	t.Helper()
	body := `{"recipients": ["jan@firma.be", "ok@firma.fr"]}`
	req, _ := http.NewRequest(http.MethodPost, "http://"+webAddr+"/api/v1/check", strings.NewReader(body))
	req.SetBasicAuth("rep@acme.test", password)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(b), `"code":"list:be-dncm"`) || !strings.Contains(string(b), `"verdict":"allowed"`) {
		t.Fatalf("check API: %d %s", resp.StatusCode, b)
	}
}

// checkLeftOutReport finds the report the rep received and checks that it
// is a delivery-status report naming each left-out recipient and reason.
func checkLeftOutReport(t *testing.T, up *upstream, want map[string]string) {
	t.Helper()
	var report *delivery
	for _, d := range up.deliveries() {
		if len(d.To) == 1 && d.To[0] == "rep@acme.test" {
			report = &d
		}
	}
	if report == nil || report.From != "" {
		t.Fatalf("no report with a null sender reached the rep: %+v", up.deliveries())
	}
	m, err := mail.ReadMessage(strings.NewReader(string(report.Data)))
	if err != nil {
		t.Fatal(err)
	}
	mt, params, _ := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if mt != "multipart/report" || params["report-type"] != "delivery-status" {
		t.Fatalf("report content type %q", m.Header.Get("Content-Type"))
	}
	body := string(report.Data)
	for rcpt, code := range want {
		if !strings.Contains(body, "Final-Recipient: rfc822; "+rcpt) || !strings.Contains(body, "["+code+"]") {
			t.Errorf("report does not name %s with %s:\n%s", rcpt, code, body)
		}
	}
}
