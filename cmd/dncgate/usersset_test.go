package main

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dncgate/dncgate/store/embedded"
)

// TestUsersSetDisableEnable: set changes the role and replaces the
// send-as list, disable and enable flip the user and ls shows it, the only
// enabled admin can be neither demoted nor disabled, and each change is
// one audit event by the operator.
func TestUsersSetDisableEnable(t *testing.T) {
	data := t.TempDir()
	cfg := writeFile(t, data, "dncgate.toml", fmt.Sprintf("[server]\ndata_dir = %q\n", data))
	dncgate(t, "", "init", "--config", cfg).want(t, 0, "stdout", "created store")
	t.Setenv("SUDO_USER", "")
	t.Setenv("USER", "ops-on-call")
	dncgate(t, password+"\n", "users", "add", "boss@acme.test", "--role", "admin", "--config", cfg, "--password-stdin").want(t, 0, "stdout")
	dncgate(t, password+"\n", "users", "add", "rep@acme.test", "--config", cfg, "--password-stdin").want(t, 0, "stdout")

	dncgate(t, "", "users", "set", "rep@acme.test", "--role", "manager", "--send-as", "@Sales.Acme.Test", "--config", cfg).
		want(t, 0, "stdout", "rep@acme.test: role manager, send-as @sales.acme.test")
	dncgate(t, "", "users", "set", "rep@acme.test", "--role", "boss", "--config", cfg).want(t, 2, "stderr", `unknown role "boss"`)
	dncgate(t, "", "users", "set", "rep@acme.test", "--send-as", "@bad_domain", "--config", cfg).want(t, 2, "stderr", `send-as "@bad_domain"`)
	dncgate(t, "", "users", "set", "rep@acme.test", "--config", cfg).want(t, 2, "stderr", "give --role or --send-as")
	dncgate(t, "", "users", "set", "boss@acme.test", "--role", "rep", "--config", cfg).want(t, 1, "stderr", "no enabled admin")
	dncgate(t, "", "users", "disable", "boss@acme.test", "--config", cfg).want(t, 1, "stderr", "no enabled admin")
	dncgate(t, "", "users", "disable", "nobody@acme.test", "--config", cfg).want(t, 1, "stderr", "no user nobody@acme.test")

	dncgate(t, "", "users", "disable", "rep@acme.test", "--config", cfg).want(t, 0, "stdout", "disabled rep@acme.test")
	r := dncgate(t, "", "users", "ls", "--config", cfg)
	r.want(t, 0, "stdout", "DISABLED", "LAST-LOGIN")
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	col := strings.Index(lines[0], "DISABLED")
	if len(lines) != 3 || !strings.HasPrefix(lines[2][col:], time.Now().UTC().Format("2006-")) || lines[1][col] != '-' {
		t.Fatalf("users ls after disable:\n%s", r.stdout)
	}
	st, err := embedded.Open(filepath.Join(data, "dncgate.db"))
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 4, 2, 10, 0, 0, 0, time.UTC)
	if err := st.RecordLogin(context.Background(), "boss@acme.test", at); err != nil {
		t.Fatal(err)
	}
	st.Close()
	r = dncgate(t, "", "users", "ls", "--json", "--config", cfg)
	r.want(t, 0, "stdout")
	var got []struct {
		Email      string   `json:"email"`
		Role       string   `json:"role"`
		SendAs     []string `json:"send_as"`
		Disabled   bool     `json:"disabled"`
		DisabledBy *string  `json:"disabled_by"`
		DisabledAt *string  `json:"disabled_at"`
		LastLogin  *string  `json:"last_login"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil || len(got) != 2 {
		t.Fatalf("ls --json: %v\n%s", err, r.stdout)
	}
	if b := got[0]; b.Disabled || b.LastLogin == nil || *b.LastLogin != "2026-04-02T10:00:00Z" || b.DisabledAt != nil {
		t.Errorf("boss in ls --json: %+v", b)
	}
	if p := got[1]; !p.Disabled || p.DisabledBy == nil || *p.DisabledBy != "ops-on-call" || p.DisabledAt == nil || p.LastLogin != nil || p.Role != "manager" {
		t.Errorf("rep in ls --json: %+v", p)
	}
	dncgate(t, "", "users", "enable", "rep@acme.test", "--config", cfg).want(t, 0, "stdout", "enabled rep@acme.test")
	dncgate(t, "", "users", "set", "rep@acme.test", "--role", "admin", "--config", cfg).want(t, 0, "stdout")
	dncgate(t, "", "users", "disable", "boss@acme.test", "--config", cfg).want(t, 0, "stdout", "disabled boss@acme.test")

	var changes []string
	for _, e := range auditTrail(t, cfg) {
		if e.Actor != "ops-on-call" {
			t.Errorf("event by %q", e.Actor)
		}
		changes = append(changes, e.Object+" "+e.Details["change"]+" "+e.Details["disabled"])
	}
	want := "boss@acme.test add |rep@acme.test add |rep@acme.test set role manager; send-as @sales.acme.test |" +
		"rep@acme.test disable yes|rep@acme.test enable |rep@acme.test set role admin |boss@acme.test disable yes"
	if strings.Join(changes, "|") != want {
		t.Fatalf("audit trail:\n%s\nwant:\n%s", strings.Join(changes, "\n"), strings.ReplaceAll(want, "|", "\n"))
	}
}
