package main

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/dncgate/dncgate/config"
	"github.com/dncgate/dncgate/ledger"
)

// auditTrail reads every audit event of the ledger cfgPath names, oldest
// first.
func auditTrail(t *testing.T, cfgPath string) []ledger.AuditEvent {
	t.Helper()
	cfg, err := config.Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	l, err := openLedger(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	evs, err := l.Audits(context.Background(), ledger.AuditQuery{Limit: ledger.MaxLimit})
	if err != nil {
		t.Fatal(err)
	}
	for i, j := 0, len(evs)-1; i < j; i, j = i+1, j-1 {
		evs[i], evs[j] = evs[j], evs[i]
	}
	return evs
}

// TestAdminChangesAudited: list imports (with the file's SHA-256 and
// counts), entries by hand with their reason, list drops, cap resets and
// user changes each leave one audit event naming who; none holds a
// recipient's address.
func TestAdminChangesAudited(t *testing.T) {
	data := t.TempDir()
	cfg := writeFile(t, data, "dncgate.toml", capsConfig(fmt.Sprintf("[server]\ndata_dir = %q", data)))
	dncgate(t, "", "init", "--config", cfg).want(t, 0, "stdout", "created store")
	t.Setenv("SUDO_USER", "")
	t.Setenv("USER", "ops-on-call")
	file := writeFile(t, t.TempDir(), "deny.csv", "boss@rival.example\nceo@rival.example\n")
	dncgate(t, "", "lists", "import", "company-deny", file, "--config", cfg, "--kind", "email", "--model", "deny", "--by", "Dana").
		want(t, 0, "stdout", "imported list company-deny")
	dncgate(t, "", "lists", "add", "company-deny", "cfo@rival.example", "--reason", "asked by their lawyer", "--config", cfg).want(t, 0, "stdout")
	dncgate(t, "", "lists", "remove", "company-deny", "ceo@rival.example", "--reason", "left the company", "--config", cfg).want(t, 0, "stdout")
	dncgate(t, "", "lists", "drop", "company-deny", "--config", cfg).want(t, 0, "stdout")
	dncgate(t, "", "caps", "reset", "ann@prospect.fr", "--cap", "recipient-30d", "--config", cfg).want(t, 0, "stdout")
	dncgate(t, password+"\n", "users", "add", "rep@acme.test", "--config", cfg, "--password-stdin").want(t, 0, "stdout")
	dncgate(t, password+"\n", "users", "passwd", "rep@acme.test", "--config", cfg, "--password-stdin").want(t, 0, "stderr")
	dncgate(t, "", "users", "grant", "rep@acme.test", "--send-as", "@acme.test", "--config", cfg).want(t, 0, "stdout")
	dncgate(t, "", "users", "revoke", "rep@acme.test", "--send-as", "@acme.test", "--config", cfg).want(t, 0, "stdout")
	dncgate(t, "", "users", "rm", "rep@acme.test", "--config", cfg).want(t, 0, "stdout")

	evs := auditTrail(t, cfg)
	var got []string
	for _, e := range evs {
		got = append(got, fmt.Sprintf("%s %s %s", e.Action, e.Object, e.Actor))
		for _, s := range append([]string{e.Object, e.Reason}, detailValues(e)...) {
			for _, addr := range []string{"boss@rival.example", "ceo@rival.example", "cfo@rival.example", "ann@prospect.fr"} {
				if strings.Contains(s, addr) {
					t.Errorf("%s event holds %s: %q", e.Action, addr, s)
				}
			}
		}
	}
	want := []string{
		"list-import company-deny Dana",
		"entry-add company-deny ops-on-call",
		"entry-remove company-deny ops-on-call",
		"list-drop company-deny ops-on-call",
		"cap-reset recipient-30d ops-on-call",
		"user-change rep@acme.test ops-on-call",
		"user-change rep@acme.test ops-on-call",
		"user-change rep@acme.test ops-on-call",
		"user-change rep@acme.test ops-on-call",
		"user-change rep@acme.test ops-on-call",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("audit trail:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	imp := evs[0].Details
	if len(imp["sha256"]) != 64 || imp["valid"] != "2" || imp["entries"] != "2" || imp["rows"] != "2" || imp["version"] == "" {
		t.Errorf("import details %v", imp)
	}
	if evs[1].Reason != "asked by their lawyer" || evs[1].Digest == nil || evs[2].Reason != "left the company" {
		t.Errorf("entries by hand: %+v / %+v", evs[1], evs[2])
	}
	if evs[4].Details["key"] != "a***@prospect.fr" || evs[4].Digest == nil {
		t.Errorf("cap reset: %+v", evs[4])
	}
	var changes []string
	for _, e := range evs[5:] {
		changes = append(changes, e.Details["change"])
	}
	if strings.Join(changes, "|") != "add|passwd|grant @acme.test|revoke @acme.test|remove" {
		t.Errorf("user changes %q", changes)
	}
}

func detailValues(e ledger.AuditEvent) []string {
	var out []string
	for _, v := range e.Details {
		out = append(out, v)
	}
	return out
}

// TestAuditFailureReported: with the ledger unreachable the change is
// made, and the command says the audit trail lacks it and exits 1.
func TestAuditFailureReported(t *testing.T) {
	data := t.TempDir()
	cfg := writeFile(t, data, "dncgate.toml", capsConfig(fmt.Sprintf("[server]\ndata_dir = %q\n\n[ledger]\nurl = \"postgres://nobody@127.0.0.1:1/none?connect_timeout=2\"", data)))
	dncgate(t, "", "init", "--config", cfg).want(t, 0, "stdout", "created store")
	r := dncgate(t, password+"\n", "users", "add", "rep@acme.test", "--config", cfg, "--password-stdin")
	r.want(t, 1, "stderr", "the change is made, but the audit trail lacks it (user-change of rep@acme.test")
	if _, _, ok := storeUser(t, data, "rep@acme.test"); !ok {
		t.Error("the user was not added")
	}
}

// TestLogAudit: `log audit` reads the trail back: filters by action, by
// whom, object and person, pages with a cursor that neither repeats nor
// skips, CSV with formulas neutralised, and a usage error for an unknown
// action.
func TestLogAudit(t *testing.T) {
	data := t.TempDir()
	cfg := initConfig(t, data, fmt.Sprintf("[server]\ndata_dir = %q\n", data))
	t.Setenv("SUDO_USER", "")
	t.Setenv("USER", "ops-on-call")
	dncgate(t, "", "lists", "add", "opt-out", "cfo@rival.example", "--reason", "=HYPERLINK(\"http://x\")", "--config", cfg).want(t, 0, "stdout")
	dncgate(t, "", "optout", "add", "ceo@rival.example", "--reason", "asked by phone", "--by", "Dana", "--config", cfg).want(t, 0, "stdout")
	dncgate(t, password+"\n", "users", "add", "rep@acme.test", "--config", cfg, "--password-stdin").want(t, 0, "stdout")
	dncgate(t, "", "users", "grant", "rep@acme.test", "--send-as", "@acme.test", "--config", cfg).want(t, 0, "stdout")

	all := dncgate(t, "", "log", "audit", "--config", cfg)
	all.want(t, 0, "stdout", "TIME", "user-change", "opt-out", "entry-add", "Dana", "ops-on-call", "change=grant @acme.test")
	if strings.Contains(all.stdout, "cfo@rival.example") || strings.Contains(all.stdout, "ceo@rival.example") {
		t.Errorf("the trail shows an address:\n%s", all.stdout)
	}
	users := dncgate(t, "", "log", "audit", "--action", "user-change", "--json", "--config", cfg)
	users.want(t, 0, "stdout", `"object":"rep@acme.test"`)
	if n := strings.Count(users.stdout, "\n"); n != 2 || strings.Contains(users.stdout, `"opt-out"`) {
		t.Errorf("--action user-change gave %d lines:\n%s", n, users.stdout)
	}
	if by := dncgate(t, "", "log", "audit", "--by", "Dana", "--format", "csv", "--config", cfg); strings.Count(by.stdout, "\n") != 2 || !strings.Contains(by.stdout, "asked by phone") {
		t.Errorf("--by Dana:\n%s", by.stdout)
	}
	person := dncgate(t, "", "log", "audit", "--address", "CFO@rival.example", "--format", "csv", "--config", cfg)
	person.want(t, 0, "stdout", "entry-add", `'=HYPERLINK(""http://x"")`)
	if strings.Count(person.stdout, "\n") != 2 {
		t.Errorf("--address: %s", person.stdout)
	}

	// Two pages of two, then nothing: every event once.
	first := dncgate(t, "", "log", "audit", "--limit", "2", "--config", cfg)
	first.want(t, 0, "stderr", "more: add --cursor ")
	cur := strings.TrimSpace(strings.TrimPrefix(first.stderr, "more: add --cursor "))
	second := dncgate(t, "", "log", "audit", "--limit", "2", "--cursor", cur, "--config", cfg)
	second.want(t, 0, "stdout", "entry-add")
	if strings.Contains(second.stdout, "grant") || strings.Count(second.stdout, "\n") != 3 {
		t.Errorf("second page:\n%s", second.stdout)
	}
	dncgate(t, "", "log", "audit", "--action", "nope", "--config", cfg).want(t, 2, "stderr", `--action: "nope" is none of`)
	dncgate(t, "", "log", "audit", "--cursor", "garbage!", "--config", cfg).want(t, 2, "stderr", "--cursor")
}
