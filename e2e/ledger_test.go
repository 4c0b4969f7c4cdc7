package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/mail"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/dncgate/dncgate/internal/testpg"
	"github.com/dncgate/dncgate/ledger"
	"github.com/dncgate/dncgate/ledger/postgres"
)

var importedVersion = regexp.MustCompile(`imported list company-deny: version (\S+)`)

// TestLedgerEndToEnd: through the built binary, the reference of the
// rep's left-out report finds the transaction with log ref, whose allowed
// recipient names every list consulted with the version imported; the
// CSV export holds no recipient's full address; a one-click unsubscribe
// shows in optout history.
func TestLedgerEndToEnd(t *testing.T) {
	up := startUpstream(t)
	dir := t.TempDir()
	addr, strict, web := freeAddr(t), freeAddr(t), freeAddr(t)
	unsub := fmt.Sprintf("\n[unsubscribe]\nbase_url = \"http://%s\"\nkeys_file = %q\n", web, filepath.Join(dir, "unsubscribe.keys"))
	cfg := writeConfig(t, dir, relayConfig(dir, addr, up.addr, footerDetails+checkConfig(strict, web)+unsub))
	addUser(t, "rep@acme.test", "--config", cfg)
	phones, deny, crm := filepath.Join(dir, "be.csv"), filepath.Join(dir, "deny.csv"), filepath.Join(dir, "crm.csv")
	os.WriteFile(phones, []byte("0470 12 34 56\n"), 0o600)
	os.WriteFile(deny, []byte("boss@rival.example\n"), 0o600)
	os.WriteFile(crm, []byte("email;mobile;country\njan@firma.be;+32 470 12 34 56;BE\n"), 0o600)
	mustCLI(t, "", "lists", "import", "be-dncm", phones, "--config", cfg)
	m := importedVersion.FindStringSubmatch(mustCLI(t, "", "lists", "import", "company-deny", deny, "--config", cfg, "--kind", "email", "--model", "deny"))
	if m == nil {
		t.Fatal("lists import printed no version")
	}
	denyVersion := m[1]
	mustCLI(t, "", "contacts", "import", crm, "--config", cfg)
	mustCLI(t, "", "lists", "add", "opt-out", "gone@firma.fr", "--reason", "asked by phone", "--config", cfg)
	startGateway(t, addr, "--config", cfg)

	rcpts := []string{"ok@firma.fr", "jan@firma.be", "gone@firma.fr"}
	if err := sendAs(addr, "rep@acme.test", "rep@acme.test", rcpts, message("rep@acme.test", "ok@firma.fr", "ledger-1")); err != nil {
		t.Fatalf("send: %v", err)
	}
	var ref, link string
	for _, d := range up.deliveries() {
		msg, err := mail.ReadMessage(bytes.NewReader(d.Data))
		if err != nil {
			t.Fatal(err)
		}
		switch d.To[0] {
		case "rep@acme.test":
			if s := regexp.MustCompile(`\(ref ([A-Z0-9]{8})\)`).FindStringSubmatch(msg.Header.Get("Subject")); s != nil {
				ref = s[1]
			}
		case "ok@firma.fr":
			link = strings.Trim(strings.Split(msg.Header.Get("List-Unsubscribe"), ",")[0], "<> ")
		}
	}
	if ref == "" || link == "" {
		t.Fatalf("no left-out report with a reference, or no unsubscribe link: %+v", up.deliveries())
	}

	// The outcomes are written after the reply: give them a moment.
	out := mustCLI(t, "", "log", "ref", ref, "--config", cfg)
	for end := time.Now().Add(10 * time.Second); !strings.Contains(out, "sent: accepted") && time.Now().Before(end); {
		time.Sleep(50 * time.Millisecond)
		out = mustCLI(t, "", "log", "ref", ref, "--config", cfg)
	}
	for _, want := range []string{"ref:      " + ref, "rep:      rep@acme.test", "o***@firma.fr  allowed", "j***@firma.be  refused  list:be-dncm",
		"g***@firma.fr  refused  opt-out", "be-dncm version 1, by phone", "sent: accepted", "left-out: 550 5.7.1 <j***@firma.be>"} {
		if !strings.Contains(out, want) {
			t.Errorf("log ref %s lacks %q:\n%s", ref, want, out)
		}
	}
	allowed := out[strings.Index(out, "o***@firma.fr  allowed"):]
	allowed = allowed[:strings.Index(allowed, "outcome")]
	if !strings.Contains(allowed, "opt-out@") || !strings.Contains(allowed, "company-deny@"+denyVersion) {
		t.Errorf("the allowed record does not name every list consulted with its version (company-deny@%s):\n%s", denyVersion, allowed)
	}

	csv := mustCLI(t, "", "log", "--format", "csv", "--config", cfg)
	if !strings.Contains(csv, ref) {
		t.Fatalf("the export lacks the transaction:\n%s", csv)
	}
	for _, full := range append(rcpts, "boss@rival.example") {
		if strings.Contains(strings.ToLower(csv+out), full) {
			t.Errorf("the ledger shows the full address %s:\n%s", full, csv)
		}
	}

	resp, err := http.Post(link, "application/x-www-form-urlencoded", strings.NewReader("List-Unsubscribe=One-Click"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("one-click POST: %d", resp.StatusCode)
	}
	hist := mustCLI(t, "", "optout", "history", "ok@firma.fr", "--config", cfg)
	if !strings.Contains(hist, "opt-out  one-click  recipient") {
		t.Errorf("optout history after a one-click unsubscribe:\n%s", hist)
	}
}

// TestLedgerSpoolFull: with the PostgreSQL ledger down and its spool
// full, the gateway answers 451 4.3.0 and nothing reaches the upstream.
func TestLedgerSpoolFull(t *testing.T) {
	pg := testpg.Start(t)
	url := pg.NewDatabase(t)
	dir := t.TempDir()
	spoolPath := filepath.Join(dir, "ledger.spool")
	fillSpool(t, pg, url, spoolPath)

	up := startUpstream(t)
	addr := freeAddr(t)
	cfg := writeConfig(t, dir, relayConfig(dir, addr, up.addr,
		fmt.Sprintf("\n[ledger]\nurl = %q\nspool_file = %q\nspool_max_bytes = \"1MiB\"\n", url, spoolPath)))
	addUser(t, "rep@acme.test", "--config", cfg)
	startGateway(t, addr, "--config", cfg)
	pg.Stop()

	err := sendAs(addr, "rep@acme.test", "rep@acme.test", []string{"ok@firma.fr"}, message("rep@acme.test", "ok@firma.fr", "spool-full"))
	var se *smtp.SMTPError
	if !asSMTPError(err, &se) || se.Code != 451 || se.EnhancedCode != (smtp.EnhancedCode{4, 3, 0}) || !strings.Contains(se.Message, "ledger") {
		t.Fatalf("send with the spool full: %v, want 451 4.3.0 naming the ledger", err)
	}
	if n := len(up.deliveries()); n != 0 {
		t.Fatalf("%d deliveries upstream without a record", n)
	}
}

// fillSpool fills the spool at path to its 1 MiB bound while the ledger
// at url is down, then starts the server again for the gateway to open.
func fillSpool(t *testing.T, pg *testpg.Server, url, path string) {
	t.Helper()
	ctx := context.Background()
	l, err := postgres.Open(ctx, url, ledger.Retention{Sent: time.Hour, Refused: time.Hour, Audit: time.Hour}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	pg.Stop()
	sp, err := ledger.OpenSpool(path, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	s := ledger.NewSpooled(l, sp)
	for i := 0; ; i++ {
		err := s.Record(ctx, []ledger.Decision{{At: time.Now(), Ref: fmt.Sprintf("FILL%04d", i), Rep: "rep@acme.test",
			RcptMasked: "f***@firma.fr", Domain: "firma.fr", Verdict: ledger.Allowed, Reason: "allowed"}})
		if errors.Is(err, ledger.ErrSpoolFull) {
			break
		}
		if err != nil || i > 1<<20 {
			t.Fatalf("filling the spool: %v after %d records", err, i)
		}
	}
	if err := s.Close(); err != nil {
		t.Logf("closing the filled spool: %v", err)
	}
	pg.Restart()
}

// TestLedgerOffOnlyForBenchmarks: serve refuses [ledger] enabled = false
// alone; with bench_only it relays, says at start and in its ready line
// that nothing is recorded, and records nothing.
func TestLedgerOffOnlyForBenchmarks(t *testing.T) {
	up := startUpstream(t)
	dir := t.TempDir()
	addr := freeAddr(t)
	cfg := writeConfig(t, dir, relayConfig(dir, addr, up.addr, "\n[ledger]\nenabled = false\nbench_only = true\n"))
	addUser(t, "rep@acme.test", "--config", cfg)
	g := startGateway(t, addr, "--config", cfg)
	if err := sendAs(addr, "rep@acme.test", "rep@acme.test", []string{"ok@firma.fr"}, message("rep@acme.test", "ok@firma.fr", "unrecorded")); err != nil {
		t.Fatalf("send with the ledger off: %v", err)
	}
	if len(up.deliveries()) != 1 {
		t.Fatalf("%d copies delivered, want 1", len(up.deliveries()))
	}
	log := g.log.String()
	if !strings.Contains(log, "ledger: OFF for a benchmark") || !strings.Contains(log, "OFF (bench_only): nothing is recorded") {
		t.Errorf("serve does not say the ledger is off:\n%s", log)
	}
	if out := mustCLI(t, "", "log", "--since", "1h", "--format", "csv", "--config", cfg); strings.Count(out, "\n") != 1 {
		t.Errorf("decisions recorded with the ledger off:\n%s", out)
	}
	if err := g.stop(t); err != nil {
		t.Fatal(err)
	}
	rewriteConfig(t, cfg, relayConfig(dir, addr, up.addr, "\n[ledger]\nenabled = false\n"))
	if out, code := cli(t, "", "serve", "--config", cfg); code != 1 || !strings.Contains(out, "ledger.enabled: false would send mail without a record") {
		t.Fatalf("serve with the ledger off and no bench_only: exit %d, want 1 and the reason:\n%s", code, out)
	}
}
