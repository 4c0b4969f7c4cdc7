package main

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Every command that prints a table or a verdict takes --json and prints
// JSON a script can read, with the same facts and exit status as its text.
func TestJSONOutput(t *testing.T) {
	dir := t.TempDir()
	cfg := initConfig(t, dir, capsConfig(fmt.Sprintf("[server]\ndata_dir = %q\n[store]\npath = %q", dir, filepath.Join(dir, "dncgate.db"))))
	dncgate(t, "long-enough-Pa55\n", "users", "add", "rep@acme.test", "--password-stdin", "--config", cfg).want(t, 0, "stdout", "added")
	list := writeFile(t, dir, "dnc.csv", "numero;inscrit\nstop@prospect.fr;1\nother@prospect.fr;1\n")
	dncgate(t, "", "lists", "import", "dnc", list, "--kind", "email", "--model", "deny", "--country", "fr",
		"--column", "numero", "--by", "alice", "--config", cfg).want(t, 0, "stdout", "imported list dnc")
	dncgate(t, "", "optout", "add", "gone@prospect.fr", "--reason", "asked by phone", "--config", cfg).want(t, 0, "stdout", "")
	dncgate(t, "", "lists", "add", "dnc", "hand@prospect.fr", "--reason", "called us", "--by", "bob", "--config", cfg).want(t, 0, "stdout", "")
	sendAs(t, cfg, "rep@acme.test", "ann@prospect.fr", "m1", time.Now().UTC())

	decode := func(args []string, code int, v any) {
		t.Helper()
		r := dncgate(t, "", append(args, "--json", "--config", cfg)...)
		r.want(t, code, "stdout", "")
		if err := json.Unmarshal([]byte(r.stdout), v); err != nil {
			t.Fatalf("%s --json printed no JSON: %v\n%s", strings.Join(args, " "), err, r.stdout)
		}
	}

	var verdicts []map[string]any
	decode([]string{"check", "stop@prospect.fr", "ok@prospect.fr"}, 1, &verdicts)
	if len(verdicts) != 2 || verdicts[0]["verdict"] != "refused" || verdicts[0]["reason"] != "list:dnc" ||
		verdicts[0]["list"] != "dnc" || verdicts[1]["verdict"] != "allowed" {
		t.Errorf("check --json = %v", verdicts)
	}
	var oc map[string]any
	decode([]string{"optout", "check", "Gone@Prospect.fr"}, 1, &oc)
	if oc["address"] != "gone@prospect.fr" || oc["opted_out"] != true {
		t.Errorf("optout check --json = %v", oc)
	}
	decode([]string{"optout", "check", "here@prospect.fr"}, 0, &oc)
	if oc["opted_out"] != false {
		t.Errorf("optout check --json = %v", oc)
	}
	var ls []map[string]any
	decode([]string{"lists", "ls"}, 0, &ls)
	byName := map[string]map[string]any{}
	for _, l := range ls {
		byName[l["name"].(string)] = l
	}
	if d := byName["dnc"]; d == nil || d["state"] != "fresh" || d["version"].(map[string]any)["entries"] != 2.0 ||
		d["by_hand"].(map[string]any)["added"] != 1.0 || d["version"].(map[string]any)["imported_by"] != "alice" {
		t.Errorf("lists ls --json dnc = %v", byName["dnc"])
	}
	var show map[string]any
	decode([]string{"lists", "show", "dnc"}, 0, &show)
	if show["kind"] != "email" || show["model"] != "deny" || fmt.Sprint(show["countries"]) != "[FR]" {
		t.Errorf("lists show --json = %v", show)
	}
	var hist map[string]any
	decode([]string{"lists", "history", "dnc"}, 0, &hist)
	if vs := hist["versions"].([]any); len(vs) != 1 || vs[0].(map[string]any)["in_force"] != true {
		t.Errorf("lists history --json = %v", hist)
	}
	var man map[string]any
	decode([]string{"lists", "manual", "dnc"}, 0, &man)
	if ch := man["changes"].([]any); len(ch) != 1 || ch[0].(map[string]any)["by"] != "bob" ||
		strings.Contains(fmt.Sprint(ch[0]), "hand@prospect.fr") {
		t.Errorf("lists manual --json = %v (the value must be masked)", man)
	}
	var users []map[string]any
	decode([]string{"users", "ls"}, 0, &users)
	if len(users) != 1 || users[0]["email"] != "rep@acme.test" || users[0]["role"] != "rep" || users[0]["created"] == nil {
		t.Errorf("users ls --json = %v", users)
	}
	var usage []map[string]any
	decode([]string{"caps", "show", "ann@prospect.fr"}, 0, &usage)
	if len(usage) == 0 || usage[0]["cap"] != "recipient-30d" || usage[0]["count"] != 1.0 || usage[0]["window"] != "30d" {
		t.Errorf("caps show --json = %v", usage)
	}
	var cs map[string]any
	decode([]string{"contacts", "status"}, 0, &cs)
	if _, ok := cs["version"]; !ok || cs["version"] != nil {
		t.Errorf("contacts status --json before any import = %v", cs)
	}
	var hst map[string]any
	decode([]string{"optout", "history", "gone@prospect.fr"}, 0, &hst)
	if ev := hst["events"].([]any); len(ev) == 0 || hst["address"] == "gone@prospect.fr" {
		t.Errorf("optout history --json = %v (address must be masked, events present)", hst)
	}
	dncgate(t, "", "log", "--json", "--format", "csv", "--config", cfg).want(t, 2, "stderr", "--json and --format csv contradict")
}
