package main

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/dncgate/dncgate/internal/testredis"
)

// keepNoneList declares a list that keeps no replaced version.
const keepNoneList = `
[[lists]]
name = "tps"
kind = "email"
model = "deny"
countries = ["all"]
keep_versions = 0
`

// fileSHA256 is the SHA-256 of a file, as lists history shows it.
func fileSHA256(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// historyRow is the row of version id in lists history's output.
func historyRow(t *testing.T, out, id string) []string {
	t.Helper()
	for _, l := range strings.Split(out, "\n") {
		if f := strings.Fields(l); len(f) > 0 && f[0] == id {
			return f
		}
	}
	return nil
}

func checkListHistory(t *testing.T, cfg string) {
	dir := t.TempDir()
	var ids, sums []string
	values := []string{"a@x.test", "b@x.test", "c@x.test", "d@x.test"}
	for n := 1; n <= 4; n++ {
		f := writeFile(t, dir, fmt.Sprintf("v%d.csv", n), strings.Join(values[:n], "\n")+"\n")
		args := []string{"lists", "import", "dnc", f, "--config", cfg, "--by", "alice"}
		if n == 1 {
			args = append(args, "--kind", "email", "--model", "deny")
		}
		dncgate(t, "", args...).want(t, 0, "stdout", "imported list dnc")
		ids = append(ids, currentVersion(t, cfg, "dnc"))
		sums = append(sums, fileSHA256(t, f))
	}
	r := dncgate(t, "", "lists", "history", "dnc", "--config", cfg)
	r.want(t, 0, "stdout", "list dnc keeps 2 replaced versions", "VERSION", "SHA-256")
	for i, want := range []struct {
		state, added string
	}{{"", ""}, {"kept", "1"}, {"kept", "1"}, {"in", "1"}} {
		f := historyRow(t, r.stdout, ids[i])
		if i == 0 {
			if f != nil {
				t.Errorf("history still shows the swept version %s: %v", ids[0], f)
			}
			continue
		}
		// VERSION STATE(1-2 words) DATE TIME BY ENTRIES ADDED REMOVED SHA RESTORED
		if f == nil || f[1] != want.state || !strings.Contains(strings.Join(f, " "), fmt.Sprintf("alice %d %s 0 %s -", i+1, want.added, sums[i])) {
			t.Errorf("history row of version %s = %v; want %s, by alice, %d entries, added %s, sha %s", ids[i], f, want.state, i+1, want.added, sums[i])
		}
	}
	if !strings.Contains(r.stdout, "in force") {
		t.Errorf("history shows no version in force:\n%s", r.stdout)
	}

	// Back to the newest kept version, then the one before, then no further.
	r = dncgate(t, "", "lists", "rollback", "dnc", "--config", cfg, "--by", "carol")
	r.want(t, 0, "stdout", fmt.Sprintf("list dnc rolled back from version %s to version %s (by carol)", ids[3], ids[2]), "entries:      3", "state:        fresh")
	r.want(t, 0, "stderr", "list rolled back")
	wantOnList(t, cfg, "dnc", map[string]bool{"c@x.test": true, "d@x.test": false})
	r = dncgate(t, "", "lists", "history", "dnc", "--config", cfg)
	if f := historyRow(t, r.stdout, ids[2]); f == nil || f[1] != "in" || !strings.Contains(strings.Join(f, " "), "by carol") {
		t.Errorf("history row of the version rolled back to: %v\n%s", f, r.stdout)
	}
	if f := historyRow(t, r.stdout, ids[3]); f == nil || f[1] != "kept" {
		t.Errorf("the version rolled back from is not kept: %v", f)
	}
	dncgate(t, "", "lists", "show", "dnc", "--config", cfg).
		want(t, 0, "stdout", "version:      "+ids[2], "keeps:        2 replaced versions (kept now: "+ids[3]+", "+ids[1]+")")
	dncgate(t, "", "lists", "rollback", "dnc", ids[0], "--config", cfg).
		want(t, 1, "stderr", "does not keep version "+ids[0], "kept: "+ids[3]+", "+ids[1])
	dncgate(t, "", "lists", "rollback", "dnc", "--config", cfg).want(t, 0, "stdout", "to version "+ids[1])
	wantOnList(t, cfg, "dnc", map[string]bool{"b@x.test": true, "c@x.test": false})
	dncgate(t, "", "lists", "rollback", "dnc", "--config", cfg).want(t, 1, "stderr", "keeps no version imported before version "+ids[1])
	dncgate(t, "", "lists", "rollback", "dnc", ids[3], "--config", cfg).want(t, 0, "stdout", "to version "+ids[3])
	wantOnList(t, cfg, "dnc", map[string]bool{"d@x.test": true})
	dncgate(t, "", "lists", "rollback", "nolist", "--config", cfg).want(t, 1, "stderr", "no such list")
	dncgate(t, "", "lists", "history", "nolist", "--config", cfg).want(t, 1, "stderr", "no such list")

	// A list declared to keep none.
	for n := 1; n <= 2; n++ {
		dncgate(t, "", "lists", "import", "tps", writeFile(t, dir, "tps.csv", strings.Join(values[:n], "\n")+"\n"), "--config", cfg).
			want(t, 0, "stdout", "imported list tps")
	}
	r = dncgate(t, "", "lists", "history", "tps", "--config", cfg)
	r.want(t, 0, "stdout", "list tps keeps no replaced version", "in force")
	if n := strings.Count(strings.TrimSpace(r.stdout), "\n"); n != 2 {
		t.Errorf("history of a list keeping none has %d lines, want the heading, the header and one version:\n%s", n+1, r.stdout)
	}
	dncgate(t, "", "lists", "rollback", "tps", "--config", cfg).want(t, 1, "stderr", "kept: none")

	checkManualRecords(t, cfg)
}

// checkManualRecords: lists add and remove record who, when, why and the
// value masked, which lists manual shows newest first.
func checkManualRecords(t *testing.T, cfg string) {
	dncgate(t, "", "lists", "manual", "dnc", "--config", cfg).want(t, 0, "stdout", "no change by hand recorded")
	dncgate(t, "", "lists", "add", "dnc", "Zoe@X.test", "--config", cfg, "--reason", "asked by phone", "--by", "bob").
		want(t, 0, "stdout", "added zoe@x.test to dnc (by bob)")
	dncgate(t, "", "lists", "remove", "dnc", "a@x.test", "--config", cfg, "--reason", "wrongly listed", "--by", "eve").
		want(t, 0, "stdout", "removed a@x.test from dnc")
	dncgate(t, "", "lists", "remove", "dnc", "never@x.test", "--config", cfg, "--reason", "r").want(t, 1, "stderr", "not on the list")
	r := dncgate(t, "", "lists", "manual", "dnc", "--config", cfg)
	r.want(t, 0, "stdout", "list dnc by hand: 1 added, 1 removed", "WHEN (UTC)")
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(lines) != 4 {
		t.Fatalf("lists manual printed %d lines, want the counts, the header and 2 records:\n%s", len(lines), r.stdout)
	}
	for i, want := range [][]string{{"eve", "removed", "a***@x.test", "wrongly listed"}, {"bob", "added", "z***@x.test", "asked by phone"}} {
		f := strings.Fields(lines[2+i])
		if got := strings.Join(f[2:], " "); got != strings.Join(want, " ") {
			t.Errorf("record %d = %q, want %q (newest first)", i, got, strings.Join(want, " "))
		}
	}
	for _, clear := range []string{"zoe@", "a@x.test"} {
		if strings.Contains(r.stdout, clear) {
			t.Errorf("lists manual shows the clear value %q:\n%s", clear, r.stdout)
		}
	}
	r = dncgate(t, "", "lists", "manual", "dnc", "--config", cfg, "--limit", "1")
	r.want(t, 0, "stdout", "eve")
	if strings.Contains(r.stdout, "bob") {
		t.Errorf("lists manual --limit 1 shows two records:\n%s", r.stdout)
	}
	dncgate(t, "", "lists", "manual", "nolist", "--config", cfg).want(t, 1, "stderr", "no such list")
	dncgate(t, "", "lists", "manual", "dnc", "--config", cfg, "--limit", "-1").want(t, 2, "stderr", "--limit -1")
}

func TestListHistoryEmbedded(t *testing.T) {
	data := t.TempDir()
	checkListHistory(t, initConfig(t, data, listsConfig(fmt.Sprintf("[server]\ndata_dir = %q", data))+keepNoneList))
}

func TestListHistoryRedis(t *testing.T) {
	where := fmt.Sprintf("[store]\nbackend = \"redis\"\nredis_url = \"redis://%s/0\"", testredis.Start(t))
	checkListHistory(t, initConfig(t, t.TempDir(), listsConfig(where)+keepNoneList))
}
