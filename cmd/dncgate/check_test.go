package main

import (
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/dncgate/dncgate/internal/testredis"
)

// checkSetup fills the store behind cfg: a Belgian phone list, a contact
// whose phone is on it, and an opt-out.
func checkSetup(t *testing.T, cfg string) {
	t.Helper()
	dir := t.TempDir()
	phones := writeFile(t, dir, "be.csv", "0470 12 34 56\n")
	dncgate(t, "", "lists", "import", "be-dncm", phones, "--config", cfg, "--kind", "phone", "--model", "deny",
		"--country", "BE", "--max-age", "5d").want(t, 0, "stdout", "imported list be-dncm")
	contacts := writeFile(t, dir, "crm.csv", "email,phone,country\njan@firma.be,+32 470 12 34 56,BE\npiet@firma.be,0470 65 43 21,BE\n")
	dncgate(t, "", "contacts", "import", contacts, "--config", cfg).want(t, 0, "stdout", "valid:      2")
	dncgate(t, "", "lists", "add", "opt-out", "gone@firma.fr", "--reason", "asked by phone", "--config", cfg).want(t, 0, "stdout")
}

func checkCommands(t *testing.T, cfg string) {
	checkSetup(t, cfg)
	r := dncgate(t, "", "check", "--config", cfg, "jan@firma.be", "piet@firma.be", "Gone+x@Firma.FR", "someone@orange.fr")
	r.want(t, exitRefused, "stdout")
	lines := map[string][]string{}
	for _, l := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		f := strings.Fields(l)
		lines[f[0]] = f[1:]
	}
	for addr, want := range map[string]string{
		"jan@firma.be":      "refused list:be-dncm: on the be-dncm list (phone match)",
		"piet@firma.be":     "allowed allowed",
		"Gone+x@Firma.FR":   "refused opt-out: the recipient opted out",
		"someone@orange.fr": "refused policy:consent-required: FR",
	} {
		if got := strings.Join(lines[addr], " "); !strings.HasPrefix(got, want) {
			t.Errorf("check %s: %q, want %q…", addr, got, want)
		}
	}
	dncgate(t, "", "check", "--config", cfg, "piet@firma.be", "jean.dupont@acme.fr").want(t, 0, "stdout", "allowed")
	dncgate(t, "", "check", "--config", cfg).want(t, exitUsage, "stderr", "usage")
	checkScrub(t, cfg)
}

// checkScrub writes a prospect file back with the verdicts, columns and
// delimiter kept.
func checkScrub(t *testing.T, cfg string) {
	dir := t.TempDir()
	in := writeFile(t, dir, "prospects.csv", "name;E-mail\nJan;jan@firma.be\nPiet;piet@firma.be\nNobody;not-an-address\n")
	out := filepath.Join(dir, "clean.csv")
	r := dncgate(t, "", "scrub", in, "--config", cfg, "--email-column", "e-mail", "--out", out)
	r.want(t, 0, "stderr", "3 rows: 1 allowed, 2 refused, 0 tempfail")
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rd := csv.NewReader(f)
	rd.Comma = ';'
	recs, err := rd.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{
		{"name", "E-mail", "verdict", "reason"},
		{"Jan", "jan@firma.be", "refused"},
		{"Piet", "piet@firma.be", "allowed", "allowed"},
		{"Nobody", "not-an-address", "refused"},
	}
	if len(recs) != len(want) {
		t.Fatalf("scrub wrote %q", recs)
	}
	for i, w := range want {
		if !slices.Equal(recs[i][:len(w)], w) {
			t.Errorf("row %d: %q, want %q…", i, recs[i], w)
		}
	}
	if !strings.HasPrefix(recs[1][3], "list:be-dncm") || !strings.HasPrefix(recs[3][3], "address") {
		t.Errorf("reasons %q, %q", recs[1][3], recs[3][3])
	}
	dncgate(t, "", "scrub", in, "--config", cfg, "--email-column", "mail").want(t, exitFail, "stderr", "mail")
}

// beBusinessAllowed overrides the Belgian preset for named business
// addresses, as an admin may: the presets stay in force for the rest.
const beBusinessAllowed = `

[[policy.rule]]
country = "BE"
business = "allow"`

func TestCheckCommandsEmbedded(t *testing.T) {
	data := t.TempDir()
	checkCommands(t, initConfig(t, data, listsConfig(fmt.Sprintf("[server]\ndata_dir = %q", data)+beBusinessAllowed)))
}

func TestCheckCommandsRedis(t *testing.T) {
	where := fmt.Sprintf("[store]\nbackend = \"redis\"\nredis_url = \"redis://%s/0\"", testredis.Start(t))
	checkCommands(t, initConfig(t, t.TempDir(), listsConfig(where+beBusinessAllowed)))
}

// TestCheckDeclaredListAndErrors: a list declared in the configuration but
// never imported holds its country's recipients back, and a store that
// cannot be reached is exit status 2, never a verdict.
func TestCheckDeclaredListAndErrors(t *testing.T) {
	data := t.TempDir()
	cfg := initConfig(t, data, listsConfig(fmt.Sprintf(`[server]
data_dir = %q

[[lists]]
name = "fr-company"
kind = "email"
model = "deny"
countries = ["FR"]
max_age = "28d"
source = "the group's shared suppression file"`, data)))
	dncgate(t, "", "check", "--config", cfg, "jean.dupont@acme.fr").
		want(t, exitRefused, "stdout", "tempfail", "stale:fr-company", "never imported")
	dncgate(t, "", "lists", "ls", "--config", cfg).want(t, 0, "stdout", "fr-company", "opt-out")
	// A declared list is imported without --kind or --model.
	file := writeFile(t, data, "fr.csv", "jean.dupont@acme.fr\n")
	dncgate(t, "", "lists", "import", "fr-company", file, "--config", cfg).want(t, 0, "stdout", "imported list fr-company")
	dncgate(t, "", "check", "--config", cfg, "jean.dupont@acme.fr", "marie@acme.fr").
		want(t, exitRefused, "stdout", "refused  list:fr-company", "marie@acme.fr        allowed")

	down := writeFile(t, t.TempDir(), "down.toml", listsConfig("[store]\nbackend = \"redis\"\nredis_url = \"redis://127.0.0.1:1/0\""))
	dncgate(t, "", "check", "--config", down, "a@b.fr").want(t, exitCheckError, "stderr", "dncgate:")
}
