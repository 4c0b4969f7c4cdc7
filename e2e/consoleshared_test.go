package e2e

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/mail"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	gotp "github.com/pquerna/otp/totp"

	"github.com/dncgate/dncgate/internal/testpg"
	"github.com/dncgate/dncgate/internal/testredis"
	"github.com/dncgate/dncgate/ledger"
	"github.com/dncgate/dncgate/ledger/postgres"
)

// TestConsoleOnRedisAndPostgres: the console of the shared deployment,
// two instances on one redis-server and one PostgreSQL ledger. A refusal
// sent through SMTP on the first instance shows on its log page and its
// transaction page; a manager enrols a second factor, then logs in again
// with a code; the trends, the lists and a CSV export read the same
// records; the session made on the first instance is good on the second;
// the export's audit event and the records are in PostgreSQL.
func TestConsoleOnRedisAndPostgres(t *testing.T) {
	redisAddr := testredis.Start(t)
	pgURL := testpg.Start(t).NewDatabase(t)
	up := startUpstream(t)
	// Instances sharing a store share the unsubscribe keys too.
	shared := fmt.Sprintf("\n[store]\nbackend = \"redis\"\nredis_url = \"redis://%s/0\"\n\n[privacy]\nhmac_key = %q\n\n[console]\nenabled = true\ninsecure_cookie = true\n\n[unsubscribe]\nkeys_file = %q\n",
		redisAddr, hmacKey, filepath.Join(t.TempDir(), "unsubscribe.keys"))
	var addrs, webs, cfgs []string
	for range 2 {
		dir := t.TempDir()
		addr, web := freeAddr(t), freeAddr(t)
		extra := shared + fmt.Sprintf("\n[web]\nlisten = %q\n\n[ledger]\nurl = %q\nspool_file = %q\n",
			web, pgURL, filepath.Join(dir, "ledger.spool"))
		addrs, webs, cfgs = append(addrs, addr), append(webs, web), append(cfgs, writeConfig(t, dir, relayConfig(dir, addr, up.addr, extra)))
	}
	addUser(t, "rep@acme.test", "--config", cfgs[0])
	addUser(t, "boss@acme.test", "--config", cfgs[0], "--role", "manager")
	mustCLI(t, "", "lists", "add", "opt-out", "gone@firma.fr", "--reason", "asked by phone", "--config", cfgs[0])
	for i := range addrs {
		startGateway(t, addrs[i], "--config", cfgs[i])
	}

	if err := sendAs(addrs[0], "rep@acme.test", "rep@acme.test", []string{"ok@firma.fr", "gone@firma.fr"},
		message("rep@acme.test", "ok@firma.fr", "console-shared")); err != nil {
		t.Fatalf("send: %v", err)
	}
	ref := leftOutRef(t, up)

	web := webs[0]
	c, secret := consoleEnrol(t, web, "boss@acme.test")
	// A second login asks for a code; the enrolment spent this step's, so
	// the next step's is given (accepted one step either side).
	c = consoleLoginTOTP(t, web, "boss@acme.test", secret, time.Now().Add(30*time.Second))

	status, page := consoleGet(t, c, web, "/console/log")
	for _, want := range []string{ref, "g***@firma.fr", "opt-out", "rep@acme.test"} {
		if status != http.StatusOK || !strings.Contains(page, want) {
			t.Fatalf("log page: %d, want %q in\n%s", status, want, page)
		}
	}
	status, page = consoleGet(t, c, web, "/console/tx/"+ref)
	for _, want := range []string{"g***@firma.fr", "o***@firma.fr", "opt-out", "left-out", "sent"} {
		if status != http.StatusOK || !strings.Contains(page, want) {
			t.Fatalf("transaction page of %s: %d, want %q in\n%s", ref, status, want, page)
		}
	}
	day := time.Now().UTC().Format(time.DateOnly)
	status, page = consoleGet(t, c, web, "/console/trends?from="+day+"&to="+day)
	if status != http.StatusOK || !regexp.MustCompile(`(?s)<table class="responsive" id="reps">.*rep@acme.test`).MatchString(page) {
		t.Fatalf("trends page: %d, want rep@acme.test in the per-rep table\n%s", status, page)
	}
	status, page = consoleGet(t, c, web, "/console/lists")
	if status != http.StatusOK || !strings.Contains(page, "opt-out") {
		t.Fatalf("lists page: %d\n%s", status, page)
	}
	status, csv := consoleGet(t, c, web, "/console/log.csv?verdict=refused")
	if status != http.StatusOK || strings.Count(strings.TrimSpace(csv), "\n") != 1 || !strings.Contains(csv, ref) || !strings.Contains(csv, "g***@firma.fr") {
		t.Fatalf("CSV export of the refusals: %d, want a header and the one refusal of %s\n%s", status, ref, csv)
	}
	if strings.Contains(csv+page, "gone@firma.fr") {
		t.Fatalf("the console shows the full address gone@firma.fr")
	}

	// The session lives in Redis: the second instance serves it (a
	// cookie does not depend on the port, so c sends it there too).
	if status, page := consoleGet(t, c, webs[1], "/console/tx/"+ref); status != http.StatusOK || !strings.Contains(page, "g***@firma.fr") {
		t.Fatalf("the first instance's session on the second: %d\n%s", status, page)
	}

	ctx := context.Background()
	led, err := postgres.Open(ctx, pgURL, ledger.Retention{}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	defer led.Close()
	if tx, err := led.Transaction(ctx, ref); err != nil || len(tx) != 2 {
		t.Fatalf("PostgreSQL holds %d records of %s (%v), want 2", len(tx), ref, err)
	}
	evs, err := led.Audits(ctx, ledger.AuditQuery{Action: ledger.ActExport})
	if err != nil || len(evs) != 1 || evs[0].Actor != "boss@acme.test" || evs[0].Details["rows"] != "1" {
		t.Fatalf("export audit events in PostgreSQL: %+v (%v), want one by boss@acme.test of 1 row", evs, err)
	}
}

// leftOutRef is the reference in the subject of the left-out report the
// rep received.
func leftOutRef(t *testing.T, up *upstream) string {
	t.Helper()
	for _, d := range up.deliveries() {
		if d.To[0] != "rep@acme.test" {
			continue
		}
		msg, err := mail.ReadMessage(bytes.NewReader(d.Data))
		if err != nil {
			t.Fatal(err)
		}
		if s := regexp.MustCompile(`\(ref ([A-Z0-9]{8})\)`).FindStringSubmatch(msg.Header.Get("Subject")); s != nil {
			return s[1]
		}
	}
	t.Fatalf("no left-out report with a reference: %+v", up.deliveries())
	return ""
}

var secretRe = regexp.MustCompile(`name="secret" value="([A-Z2-7]+)"`)

// consoleEnrol logs user in for the first time and enrols the second
// factor the console asks of a manager; it returns the logged-in client
// and the secret.
func consoleEnrol(t *testing.T, web, user string) (*http.Client, string) {
	t.Helper()
	c, code := consoleLogin(t, web, user, password)
	if code != http.StatusSeeOther {
		t.Fatalf("first login of %s: %d, want 303 to the enrolment", user, code)
	}
	status, page := consoleGet(t, c, web, "/console/login/enrol")
	m := secretRe.FindStringSubmatch(page)
	if status != http.StatusOK || m == nil {
		t.Fatalf("enrolment page: %d\n%s", status, page)
	}
	code6, err := gotp.GenerateCode(m[1], time.Now())
	if err != nil {
		t.Fatal(err)
	}
	status, _, page = consolePost(t, c, web, "/console/login/enrol", url.Values{"csrf": {csrfOf(t, page)}, "secret": {m[1]}, "code": {code6}}, "")
	if status != http.StatusOK || !strings.Contains(page, `class="codes"`) {
		t.Fatalf("enrolment: %d\n%s", status, page)
	}
	return c, m[1]
}

// consoleLoginTOTP logs an enrolled user in with the password and the
// code of the step holding at, and fails unless the log page follows.
func consoleLoginTOTP(t *testing.T, web, user, secret string, at time.Time) *http.Client {
	t.Helper()
	c, code := consoleLogin(t, web, user, password)
	if code != http.StatusSeeOther {
		t.Fatalf("login of %s: %d, want 303 to the code", user, code)
	}
	status, page := consoleGet(t, c, web, "/console/login/code")
	if status != http.StatusOK {
		t.Fatalf("code page: %d\n%s", status, page)
	}
	code6, err := gotp.GenerateCode(secret, at)
	if err != nil {
		t.Fatal(err)
	}
	status, loc, page := consolePost(t, c, web, "/console/login/code", url.Values{"csrf": {csrfOf(t, page)}, "code": {code6}}, "")
	if status != http.StatusSeeOther || loc != "/console/log" {
		t.Fatalf("code of %s: %d to %q, want 303 to the log\n%s", user, status, loc, page)
	}
	return c
}
