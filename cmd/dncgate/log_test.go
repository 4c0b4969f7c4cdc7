package main

import (
	"context"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dncgate/dncgate/config"
	"github.com/dncgate/dncgate/internal/testpg"
	"github.com/dncgate/dncgate/internal/testredis"
	"github.com/dncgate/dncgate/ledger"
)

// seedLedger records three transactions an hour ago through the ledger
// the configuration names, as the relay would.
func seedLedger(t *testing.T, cfgPath string) {
	t.Helper()
	cfg, err := config.Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	key, err := cfg.HMACKey()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	l, err := openLedger(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	at := time.Now().Add(-time.Hour).UTC()
	mk := func(ref, rep, addr string, v ledger.Verdict, reason string, off time.Duration) ledger.Decision {
		d := ledger.Decision{At: at.Add(off), Ref: ref, Rep: rep, Sender: rep, RcptMasked: addr[:1] + "***" + addr[strings.IndexByte(addr, '@'):],
			RcptDigest: emailDigest(key, addr), Domain: addr[strings.IndexByte(addr, '@')+1:], Country: "FR", CountryFrom: "tld",
			RcptType: "business", Rule: "FR rule", Verdict: v, Reason: ledger.Reason(reason),
			Lists: []ledger.ListVersion{{List: "opt-out", Version: "v3"}, {List: "be-dncm", Version: "20260615"}}, Listener: "default", Client: "127.0.0.1:4000"}
		if v == ledger.Refused {
			d.Match = ledger.Match{List: "be-dncm", Version: "20260615", KeyKind: "phone"}
		}
		return d
	}
	ds := []ledger.Decision{
		mk("REF1", "alice@corp.example", "jeanne@acme.fr", ledger.Allowed, "allowed", 0),
		mk("REF1", "alice@corp.example", "paul@acme.fr", ledger.Refused, "list:be-dncm", time.Millisecond),
		mk("REF2", "=HYPERLINK(\"http://x\")", "jeanne@acme.fr", ledger.Allowed, "allowed", time.Second),
		mk("REF3", "bob@corp.example", "marc@other.fr", ledger.Allowed, "allowed", 2*time.Second),
	}
	if err := l.Record(ctx, ds); err != nil {
		t.Fatal(err)
	}
	if err := l.SetOutcome(ctx, "REF1", ds[0].RcptDigest, ledger.Outcome{Kind: ledger.Sent, Reply: "250 2.0.0 Ok: queued as 4F2", At: at}); err != nil {
		t.Fatal(err)
	}
}

func checkLogCommands(t *testing.T, cfg string) {
	seedLedger(t, cfg)
	r := dncgate(t, "", "log", "--config", cfg)
	r.want(t, 0, "stdout", "REF1", "REF3", "j***@acme.fr", "p***@acme.fr", "list:be-dncm", "sent", "unknown")
	if strings.Index(r.stdout, "REF3") > strings.Index(r.stdout, "REF1") {
		t.Errorf("not newest first:\n%s", r.stdout)
	}
	r = dncgate(t, "", "log", "--config", cfg, "--rep", "alice@corp.example", "--verdict", "refused")
	r.want(t, 0, "stdout", "p***@acme.fr")
	if strings.Contains(r.stdout, "j***") {
		t.Errorf("--rep --verdict refused shows an allowed send:\n%s", r.stdout)
	}
	// The address is searched by its digest, normalised as the relay does.
	r = dncgate(t, "", "log", "--config", cfg, "--address", "Jeanne+promo@ACME.fr", "--format", "json")
	if n := strings.Count(r.stdout, "\n"); n != 2 || strings.Contains(r.stdout, "paul") {
		t.Errorf("--address found %d decisions, want jeanne's 2:\n%s", n, r.stdout)
	}
	r = dncgate(t, "", "log", "--config", cfg, "--list", "be-dncm", "--domain", "ACME.fr", "--format", "csv")
	rows, err := csv.NewReader(strings.NewReader(r.stdout)).ReadAll()
	if err != nil || len(rows) != 2 || rows[1][1] != "REF1" {
		t.Errorf("--list --domain csv = %v, %v", rows, err)
	}
	r = dncgate(t, "", "log", "--config", cfg, "--format", "csv", "--reason", "allowed", "--since", "2h")
	if !strings.Contains(r.stdout, `"'=HYPERLINK(""http://x"")"`) {
		t.Errorf("the CSV does not neutralise a formula:\n%s", r.stdout)
	}
	// Pages: two, then the rest with the printed cursor.
	r = dncgate(t, "", "log", "--config", cfg, "--limit", "3")
	r.want(t, 0, "stderr", "more: add --cursor ")
	cursor := strings.TrimSpace(r.stderr[strings.LastIndex(r.stderr, "--cursor ")+len("--cursor "):])
	r = dncgate(t, "", "log", "--config", cfg, "--limit", "3", "--cursor", cursor)
	if !strings.Contains(r.stdout, "REF1") || strings.Contains(r.stdout, "REF3") || strings.Contains(r.stderr, "more:") {
		t.Errorf("second page:\n%s\n%s", r.stdout, r.stderr)
	}
	dncgate(t, "", "log", "--config", cfg, "--since", "2h", "--until", "90m").want(t, 0, "stderr", "no decision matches")
	dncgate(t, "", "log", "--config", cfg, "--verdict", "maybe").want(t, 2, "stderr", "--verdict")
	dncgate(t, "", "log", "--config", cfg, "--since", "yesterday").want(t, 2, "stderr", "--since")

	r = dncgate(t, "", "log", "ref", "REF1", "--config", cfg)
	r.want(t, 0, "stdout", "rep:      alice@corp.example", "j***@acme.fr  allowed", "opt-out@v3 be-dncm@20260615",
		"sent: 250 2.0.0 Ok: queued as 4F2", "p***@acme.fr  refused  list:be-dncm", "be-dncm version 20260615, by phone", "outcome          unknown")
	dncgate(t, "", "log", "ref", "NOPE", "--config", cfg).want(t, 1, "stderr", "no transaction")

	// An opt-out is in the history; an erasure removes the refusals, keeps
	// the sends without the address, and is recorded without it.
	dncgate(t, "", "optout", "add", "paul@acme.fr", "--config", cfg, "--reason", "phone", "--by", "admin1").want(t, 0, "stdout", "opted out")
	dncgate(t, "", "optout", "history", "Paul@acme.fr", "--config", cfg).want(t, 0, "stdout", "opt-out", "cli", "admin1")
	dncgate(t, "", "optout", "erase", "jeanne@acme.fr", "--config", cfg, "--reason", "art. 17").
		want(t, 0, "stdout", "ledger: 0 refusals deleted, 2 sent decisions kept without the address")
	dncgate(t, "", "optout", "erase", "paul@acme.fr", "--config", cfg, "--reason", "art. 17").
		want(t, 0, "stdout", "ledger: 1 refusals deleted, 0 sent decisions kept without the address")
	r = dncgate(t, "", "log", "--config", cfg, "--address", "jeanne@acme.fr")
	r.want(t, 0, "stderr", "no decision matches")
	r = dncgate(t, "", "log", "ref", "REF1", "--config", cfg, "--format", "json")
	if !strings.Contains(r.stdout, `"recipient":"(erased)"`) || strings.Contains(r.stdout, "p***") || strings.Contains(r.stdout, "j***") {
		t.Errorf("after erasure REF1 shows:\n%s", r.stdout)
	}
	// The erasure events carry no digest: history of the erased address
	// shows the opt-out alone.
	r = dncgate(t, "", "optout", "history", "paul@acme.fr", "--config", cfg)
	if strings.Contains(r.stdout, "erase") {
		t.Errorf("the erasure is recorded with the address's digest:\n%s", r.stdout)
	}
}

func ledgerTestConfig(t *testing.T, extra string) string {
	dir := t.TempDir()
	return optoutConfig(t, fmt.Sprintf("[server]\ndata_dir = %q\n%s", filepath.Join(dir, "data"), extra))
}

func TestLogCommandsSQLite(t *testing.T) {
	checkLogCommands(t, ledgerTestConfig(t, ""))
}

func TestLogCommandsPostgres(t *testing.T) {
	url := testpg.Start(t).NewDatabase(t)
	checkLogCommands(t, ledgerTestConfig(t, fmt.Sprintf("[ledger]\nurl = %q", url)))
}

// On Redis without a shared ledger, log says it shows this instance only.
func TestLogSaysLocalOnRedis(t *testing.T) {
	cfg := ledgerTestConfig(t, fmt.Sprintf("[store]\nbackend = \"redis\"\nredis_url = \"redis://%s/0\"", testredis.Start(t)))
	dncgate(t, "", "log", "--config", cfg).want(t, 0, "stderr", "this instance only")
	url := testpg.Start(t).NewDatabase(t)
	cfg = ledgerTestConfig(t, fmt.Sprintf("[store]\nbackend = \"redis\"\nredis_url = \"redis://%s/0\"\n[ledger]\nurl = %q", testredis.Start(t), url))
	if r := dncgate(t, "", "log", "--config", cfg); strings.Contains(r.stderr, "this instance only") || r.code != 0 {
		t.Errorf("with a shared ledger: %d %s", r.code, r.stderr)
	}
}

// A mistyped --data is no store, not an empty ledger: the ledger commands
// exit 2 naming the place they looked and create nothing there.
func TestLogNeedsAStore(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "mistyped")
	for _, args := range [][]string{
		{"log", "--data", missing},
		{"log", "ref", "ABCDEFGH", "--data", missing},
		{"optout", "history", "paul@acme.fr", "--data", missing},
	} {
		dncgate(t, "", args...).want(t, 2, "stderr", "no store at "+missing)
		if _, err := os.Stat(missing); !os.IsNotExist(err) {
			t.Fatalf("%v left %s behind (%v)", args, missing, err)
		}
	}
}
