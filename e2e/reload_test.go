package e2e

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dncgate/dncgate/internal/testcert"
	"github.com/dncgate/dncgate/internal/testredis"
	"github.com/dncgate/dncgate/ledger"
	ledgersqlite "github.com/dncgate/dncgate/ledger/sqlite"
	"github.com/emersion/go-smtp"
)

// rewriteConfig writes text to the configuration file at path, as an
// administrator editing it under a running gateway, and returns path.
func rewriteConfig(t *testing.T, path, text string) string {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// reload sends SIGHUP and waits for the n-th log line holding want.
func (g *gateway) reload(t *testing.T, want string, n int) {
	t.Helper()
	if err := g.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(15 * time.Second)
	for strings.Count(g.log.String(), want) < n {
		select {
		case err := <-g.done:
			g.done <- err
			t.Fatalf("dncgate exited on SIGHUP (%v):\n%s", err, g.log.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %q in the log 15s after SIGHUP:\n%s", want, g.log.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// session is an authenticated SMTP session kept open by the test.
func openSession(t *testing.T, addr string) *smtp.Client {
	t.Helper()
	c, err := smtp.Dial(addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if err := c.Hello("client.test"); err != nil {
		t.Fatal(err)
	}
	if err := c.Auth(plainAuth("rep@acme.test", password)); err != nil {
		t.Fatal(err)
	}
	return c
}

func sendOn(t *testing.T, c *smtp.Client, to, subject string) {
	t.Helper()
	if err := c.SendMail("rep@acme.test", []string{to}, strings.NewReader(string(message("rep@acme.test", to, subject)))); err != nil {
		t.Fatalf("sending %s: %v", subject, err)
	}
}

// copyTo is the one copy the upstream got for rcpt.
func copyTo(t *testing.T, up *upstream, rcpt string) string {
	t.Helper()
	var found []string
	for _, d := range up.deliveries() {
		if len(d.To) == 1 && d.To[0] == rcpt {
			found = append(found, string(d.Data))
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d copies for %s, want 1", len(found), rcpt)
	}
	return found[0]
}

const (
	reloaded       = "reloaded: new sessions use the new configuration"
	reloadRefused  = "reload refused: the running configuration stays"
	restartNeeded  = "these keys need a restart"
	renamedCompany = "Zephyr Renamed SARL"
)

// TestReloadOnSIGHUP: SIGHUP puts a new footer into force for new
// sessions without dropping one under way; a broken file is refused with
// its line and the running configuration stays; a changed listen address
// is named as needing a restart and the old one keeps serving.
func TestReloadOnSIGHUP(t *testing.T) {
	dir := t.TempDir()
	up := startUpstream(t)
	addr := freeAddr(t)
	good := relayConfig(dir, addr, up.addr, footerSection)
	cfg := writeConfig(t, dir, good)
	addUser(t, "rep@acme.test", "--config", cfg)
	g := startGateway(t, addr, "--config", cfg)

	open := openSession(t, addr)
	renamed := strings.Replace(good, `company = "Acme SAS"`, `company = "`+renamedCompany+`"`, 1)
	rewriteConfig(t, cfg, renamed)
	g.reload(t, reloaded, 1)

	sendOn(t, open, "kept@prospect.test", "kept-session")
	if body := copyTo(t, up, "kept@prospect.test"); !strings.Contains(body, "Acme SAS") || strings.Contains(body, renamedCompany) {
		t.Errorf("the session begun before the reload should keep the old footer:\n%s", body)
	}
	sendOn(t, openSession(t, addr), "new@prospect.test", "new-session")
	if body := copyTo(t, up, "new@prospect.test"); !strings.Contains(body, renamedCompany) {
		t.Errorf("a session begun after the reload lacks the new company:\n%s", body)
	}

	// An unknown key on line 2: refused, with the file and line.
	rewriteConfig(t, cfg, "\nno_such_key = 1\n"+renamed)
	g.reload(t, reloadRefused, 1)
	if log := g.log.String(); !strings.Contains(log, cfg+":2: no_such_key: unknown key") {
		t.Errorf("the refusal does not name the file, line and key:\n%s", log)
	}
	sendOn(t, openSession(t, addr), "after-broken@prospect.test", "after-broken")
	if body := copyTo(t, up, "after-broken@prospect.test"); !strings.Contains(body, renamedCompany) {
		t.Errorf("the running configuration did not stay after a refused file:\n%s", body)
	}

	// A new address, and the log level from debug to warn.
	moved := strings.Replace(renamed, fmt.Sprintf("address = %q", addr), fmt.Sprintf("address = %q", freeAddr(t)), 1)
	moved = strings.Replace(moved, `level = "debug"`, `level = "warn"`, 1)
	rewriteConfig(t, cfg, moved)
	g.reload(t, reloaded, 2)
	log := g.log.String()
	if i := strings.Index(log, restartNeeded); i < 0 || !strings.Contains(log[i:], "listener[0].address") {
		t.Errorf("the changed listen address is not named as needing a restart:\n%s", log)
	}
	sendOn(t, open, "still-open@prospect.test", "still-open")
	sendOn(t, openSession(t, addr), "quiet@prospect.test", "quiet")
	copyTo(t, up, "quiet@prospect.test")
	log = g.log.String()
	if after := log[strings.LastIndex(log, reloaded):]; strings.Contains(after, `"level":"INFO"`) {
		t.Errorf("info lines logged after the level became warn:\n%s", after)
	}
	if err := g.stop(t); err != nil {
		t.Errorf("stop after reloads: %v", err)
	}
	checkReloadAudit(t, filepath.Join(dir, "ledger.db"))
}

// checkReloadAudit: each of TestReloadOnSIGHUP's three reloads is in the
// audit trail, by "sighup", with the keys it changed and never a value;
// the refused one with its error.
func checkReloadAudit(t *testing.T, path string) {
	t.Helper()
	l, err := ledgersqlite.Open(path, ledger.Retention{Sent: time.Hour, Refused: time.Hour, Audit: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	es, err := l.Audits(context.Background(), ledger.AuditQuery{Action: ledger.ActConfigReload})
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 3 {
		t.Fatalf("%d reloads in the audit trail, want 3: %+v", len(es), es)
	}
	for _, e := range es {
		if e.Actor != "sighup" || e.Details["pid"] == "" {
			t.Errorf("a reload recorded as by %q, pid %q; want sighup and the process", e.Actor, e.Details["pid"])
		}
		if strings.Contains(fmt.Sprint(e.Details), renamedCompany) {
			t.Errorf("a reload's audit event holds a value: %v", e.Details)
		}
	}
	moved, broken, renamed := es[0].Details, es[1].Details, es[2].Details
	if renamed["result"] != "applied" || renamed["changed"] != "footer.company" {
		t.Errorf("the footer reload is recorded as %v; want applied, changed footer.company", renamed)
	}
	if broken["result"] != "refused" || !strings.Contains(broken["error"], "no_such_key: unknown key") {
		t.Errorf("the refused reload is recorded as %v; want refused, with the unknown key", broken)
	}
	if moved["result"] != "applied" || moved["changed"] != "log.level" || !strings.Contains(moved["restart"], "listener[0].address") {
		t.Errorf("the last reload is recorded as %v; want applied, log.level changed, listener[0].address for a restart", moved)
	}
}

// TestReloadCertificate: a certificate renewed in place is served from
// the next handshake after SIGHUP.
func TestReloadCertificate(t *testing.T) {
	dir := t.TempDir()
	up := startUpstream(t)
	first := testcert.New(t, "gw.test")
	cert, key, _ := first.WriteFiles(t, dir)
	addr := freeAddr(t)
	cfg := writeConfig(t, dir, fmt.Sprintf(`
[server]
hostname = "gw.test"
data_dir = %[1]q

[[listener]]
name = "submissions"
address = %[2]q
tls = "implicit"
cert_file = %[3]q
key_file = %[4]q

[upstream]
url = "smtp://%[5]s"
`, dir, addr, cert, key, up.addr))
	g := startGateway(t, addr, "--config", cfg)
	before := servedLeaf(t, addr, first.ClientTLS("gw.test"))

	renewed := testcert.New(t, "gw.test")
	newCert, newKey, _ := renewed.WriteFiles(t, t.TempDir())
	for src, dst := range map[string]string{newCert: cert, newKey: key} {
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	g.reload(t, reloaded, 1)
	if after := servedLeaf(t, addr, renewed.ClientTLS("gw.test")); after.Equal(before) {
		t.Error("the old certificate is still served after the reload")
	}
}

func servedLeaf(t *testing.T, addr string, cfg *tls.Config) *x509.Certificate {
	t.Helper()
	conn, err := tls.Dial("tcp", addr, cfg)
	if err != nil {
		t.Fatalf("TLS handshake: %v", err)
	}
	defer conn.Close()
	return conn.ConnectionState().PeerCertificates[0]
}

// A [[lists]] table added before SIGHUP is declared in the store as at
// start: the new session's check holds its never-imported recipients
// back (451, stale), which it did not before; on every store.
func TestReloadDeclaresLists(t *testing.T) {
	redisStore := func(addr string) string {
		return fmt.Sprintf("\n[store]\nbackend = \"redis\"\nredis_url = \"redis://%s/0\"\n\n[privacy]\nhmac_key = %q\n", addr, hmacKey)
	}
	for name, store := range map[string]func(t *testing.T) string{
		"embedded": func(*testing.T) string { return "" },
		"redis":    func(t *testing.T) string { return redisStore(testredis.Start(t)) },
		"cluster": func(t *testing.T) string {
			return fmt.Sprintf("\n[store]\nbackend = \"redis\"\nredis_cluster = [%q]\n\n[privacy]\nhmac_key = %q\n",
				testredis.StartCluster(t, 3)[0], hmacKey)
		},
	} {
		t.Run(name, func(t *testing.T) { reloadListScenario(t, store(t)) })
	}
}

func reloadListScenario(t *testing.T, extra string) {
	dir := t.TempDir()
	up := startUpstream(t)
	addr := freeAddr(t)
	base := relayConfig(dir, addr, up.addr, extra)
	cfg := writeConfig(t, dir, base)
	addUser(t, "rep@acme.test", "--config", cfg)
	g := startGateway(t, addr, "--config", cfg)
	sendOn(t, openSession(t, addr), "jean@firma.fr", "before")

	rewriteConfig(t, cfg, base+`
[[lists]]
name = "fr-new"
kind = "email"
model = "deny"
countries = ["FR"]
max_age = "5d"
`)
	g.reload(t, reloaded, 1)
	err := sendAs(addr, "rep@acme.test", "rep@acme.test", []string{"jean@firma.fr"}, message("rep@acme.test", "jean@firma.fr", "after"))
	var se *smtp.SMTPError
	if !asSMTPError(err, &se) || se.Code != 451 || !strings.Contains(se.Message, "fr-new") {
		t.Fatalf("after the reload: %v, want 451 naming the never-imported fr-new list", err)
	}
	if out := mustCLI(t, "", "lists", "ls", "--config", rewriteConfig(t, filepath.Join(t.TempDir(), "base.toml"), base)); !strings.Contains(out, "fr-new") {
		t.Errorf("lists ls does not show the list declared by the reload:\n%s", out)
	}
}
