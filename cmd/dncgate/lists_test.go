package main

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/dncgate/dncgate/country"
	"github.com/dncgate/dncgate/country/countrytest"
	"github.com/dncgate/dncgate/internal/testredis"
	"github.com/dncgate/dncgate/listdb"
	"github.com/dncgate/dncgate/lists"
)

// listsConfig is a configuration on the store described by storeTOML with
// a known digest key, so the test can key values as the command does.
func listsConfig(storeTOML string) string {
	return fmt.Sprintf("%s\n\n[privacy]\nhmac_key = %q\n", storeTOML, capsKey)
}

// onList reports, straight from the configured store, whether list name
// holds each e-mail address, keyed as the command keys them.
func onList(t *testing.T, cfgPath, name string, addrs ...string) []bool {
	t.Helper()
	return onListKind(t, cfgPath, name, lists.KindEmail, addrs...)
}

// onListKind is onList for normalised values of any kind.
func onListKind(t *testing.T, cfgPath, name string, kind lists.Kind, addrs ...string) []bool {
	t.Helper()
	ctx := context.Background()
	_, st, key := openTestStore(t, cfgPath)
	ds := make([]listdb.Digest, len(addrs))
	for i, a := range addrs {
		ds[i] = listdb.Key(key, kind.String(), a)
	}
	got, err := st.Contains(ctx, name, ds...)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func wantOnList(t *testing.T, cfgPath, name string, want map[string]bool) {
	t.Helper()
	var addrs []string
	for a := range want {
		addrs = append(addrs, a)
	}
	for i, got := range onList(t, cfgPath, name, addrs...) {
		if got != want[addrs[i]] {
			t.Errorf("list %s holds %s: %v, want %v", name, addrs[i], got, want[addrs[i]])
		}
	}
}

var versionLine = regexp.MustCompile(`(?m)^version: +(\S+)$`)

// summaryField is the value after "label:" on a line of a summary.
func summaryField(out, label string) string {
	for _, l := range strings.Split(out, "\n") {
		if v, ok := strings.CutPrefix(l, label+":"); ok {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// wantSummary checks "label: value" lines of a summary.
func wantSummary(t *testing.T, out string, want map[string]string) {
	t.Helper()
	for label, v := range want {
		if got := summaryField(out, label); got != v {
			t.Errorf("%s: %q, want %q in:\n%s", label, got, v, out)
		}
	}
}

// currentVersion is the version lists show prints for name.
func currentVersion(t *testing.T, cfg, name string) string {
	t.Helper()
	r := dncgate(t, "", "lists", "show", name, "--config", cfg)
	r.want(t, 0, "stdout", "name:")
	m := versionLine.FindStringSubmatch(r.stdout)
	if m == nil {
		t.Fatalf("lists show %s prints no version:\n%s", name, r.stdout)
	}
	return m[1]
}

func checkListsCommands(t *testing.T, cfg string) {
	dir := t.TempDir()
	first := writeFile(t, dir, "first.csv", "email;name\nA@X.test;A\nb@x.test;B\nnot-an-email;C\na@x.test;A again\n")
	r := dncgate(t, "", "lists", "import", "dnc", first, "--config", cfg, "--kind", "email", "--model", "deny",
		"--country", "fr", "--max-age", "5d", "--column", "EMAIL", "--by", "alice")
	r.want(t, 0, "stdout", "imported list dnc", "line 4: invalid email")
	wantSummary(t, r.stdout, map[string]string{"rows": "4", "valid": "3", "invalid": "1", "duplicates": "1", "entries": "2",
		"added": "2 (against no version before)", "removed": "0"})
	wantOnList(t, cfg, "dnc", map[string]bool{"a@x.test": true, "b@x.test": true, "c@x.test": false})
	r = dncgate(t, "", "lists", "ls", "--config", cfg)
	r.want(t, 0, "stdout", "NAME", "ENTRIES", "STATE")
	if f := row(t, r.stdout, "dnc"); strings.Join(f[1:5], " ") != "email deny FR 2" || f[len(f)-1] != "fresh" {
		t.Errorf("lists ls row %v", f)
	}
	dncgate(t, "", "lists", "show", "dnc", "--config", cfg).
		want(t, 0, "stdout", "max age:      5d", "by alice", "rows:         4", "duplicates:   1", "on stale:     refuse")
	v1 := currentVersion(t, cfg, "dnc")

	// A re-import replaces the entries and keeps the description; it
	// removes all of them, so it is forced.
	second := writeFile(t, dir, "second.csv", "c@x.test\n")
	r = dncgate(t, "", "lists", "import", "dnc", second, "--config", cfg, "--force")
	r.want(t, 0, "stdout", "imported list dnc")
	wantSummary(t, r.stdout, map[string]string{"duplicates": "0", "entries": "1", "added": "1 (against version " + v1 + ")", "removed": "2"})
	wantOnList(t, cfg, "dnc", map[string]bool{"a@x.test": false, "c@x.test": true})
	v2 := currentVersion(t, cfg, "dnc")
	if v2 == v1 {
		t.Errorf("re-import kept version %s", v1)
	}
	dncgate(t, "", "lists", "show", "dnc", "--config", cfg).want(t, 0, "stdout", "countries:    FR", "max age:      5d")

	// A file that cannot be read to its end changes nothing.
	broken := writeFile(t, dir, "broken.csv", "d@x.test\ne@x.test\n\xff\xfe@x.test\n")
	dncgate(t, "", "lists", "import", "dnc", broken, "--config", cfg).
		want(t, 1, "stderr", "current version stays in force", "line 3", "not valid UTF-8")
	if v := currentVersion(t, cfg, "dnc"); v != v2 {
		t.Errorf("after a failed import the version is %s, want %s", v, v2)
	}
	wantOnList(t, cfg, "dnc", map[string]bool{"c@x.test": true, "d@x.test": false})

	// A dry run writes nothing, not even a new list.
	r = dncgate(t, "", "lists", "import", "dnc", first, "--config", cfg, "--dry-run", "--header", "--force")
	r.want(t, 0, "stdout", "dry run: list dnc not changed")
	wantSummary(t, r.stdout, map[string]string{"valid": "3", "entries": "2", "added": "2 (against version " + v2 + ")", "removed": "1"})
	if v := currentVersion(t, cfg, "dnc"); v != v2 {
		t.Errorf("after a dry run the version is %s, want %s", v, v2)
	}
	dncgate(t, "", "lists", "import", "fresh", first, "--config", cfg, "--dry-run", "--header", "--kind", "email", "--model", "clearance").
		want(t, 0, "stdout", "dry run")
	dncgate(t, "", "lists", "show", "fresh", "--config", cfg).want(t, 1, "stderr", "no such list")

	// By hand: additions and removals.
	dncgate(t, "", "lists", "add", "dnc", "Z@X.test", "--config", cfg, "--reason", "asked by phone", "--by", "bob").
		want(t, 0, "stdout", "added z@x.test to dnc (by bob)")
	dncgate(t, "", "lists", "remove", "dnc", "c@x.test", "--config", cfg).want(t, 2, "stderr", "--reason")
	wantOnList(t, cfg, "dnc", map[string]bool{"c@x.test": true})
	dncgate(t, "", "lists", "remove", "dnc", "C@x.test", "--config", cfg, "--reason", "wrongly listed").want(t, 0, "stdout", "removed c@x.test from dnc")
	wantOnList(t, cfg, "dnc", map[string]bool{"z@x.test": true, "c@x.test": false})
	for _, v := range []string{"c@x.test", "never@x.test"} {
		dncgate(t, "", "lists", "remove", "dnc", v, "--config", cfg, "--reason", "again").
			want(t, 1, "stderr", v+" is not on the list dnc: nothing removed")
	}
	// Added back by hand after the removal: on again.
	dncgate(t, "", "lists", "add", "dnc", "c@x.test", "--config", cfg, "--reason", "asked again").want(t, 0, "stdout", "added c@x.test")
	wantOnList(t, cfg, "dnc", map[string]bool{"c@x.test": true})

	dncgate(t, "", "lists", "drop", "dnc", "--config", cfg).want(t, 0, "stdout", "dropped list dnc")
	dncgate(t, "", "lists", "show", "dnc", "--config", cfg).want(t, 1, "stderr", "no such list")
	if r := dncgate(t, "", "lists", "ls", "--config", cfg); strings.Contains(r.stdout, "dnc") {
		t.Errorf("lists ls after drop:\n%s", r.stdout)
	}
	checkImportChanges(t, cfg)
	checkOptOutList(t, cfg)
	checkImportInputs(t, cfg)
}

func TestListsCommandsEmbedded(t *testing.T) {
	data := t.TempDir()
	checkListsCommands(t, initConfig(t, data, listsConfig(fmt.Sprintf("[server]\ndata_dir = %q", data))))
}

func TestListsCommandsRedis(t *testing.T) {
	where := fmt.Sprintf("[store]\nbackend = \"redis\"\nredis_url = \"redis://%s/0\"", testredis.Start(t))
	checkListsCommands(t, initConfig(t, t.TempDir(), listsConfig(where)))
}

func TestListsCommandErrors(t *testing.T) {
	data := t.TempDir()
	cfg := initConfig(t, data, listsConfig(fmt.Sprintf("[server]\ndata_dir = %q", data)))
	file := writeFile(t, data, "l.csv", "a@x.test\n")
	cases := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"new list needs kind", []string{"import", "dnc", file}, 2, "give its --kind and --model"},
		{"bad name", []string{"import", "d n c", file, "--kind", "email", "--model", "deny"}, 2, "is not a letter"},
		{"bad model", []string{"import", "dnc", file, "--kind", "email", "--model", "maybe"}, 2, `model "maybe"`},
		{"bad country", []string{"import", "dnc", file, "--kind", "email", "--model", "deny", "--country", "FRA"}, 2, `"FRA" is not an ISO 3166-1`},
		{"bad age", []string{"import", "dnc", file, "--kind", "email", "--model", "deny", "--max-age", "soon"}, 2, `--max-age: invalid duration "soon"`},
		{"both header flags", []string{"import", "dnc", file, "--header", "--no-header"}, 2, "contradict"},
		{"named column without header", []string{"import", "dnc", file, "--kind", "email", "--model", "deny", "--column", "numero", "--no-header"}, 2, `--column "numero" is a name, but --no-header`},
		{"missing file", []string{"import", "dnc", "/nonexistent/l.csv", "--kind", "email", "--model", "deny"}, 1, "no such file"},
		{"add to no list", []string{"add", "nolist", "a@x.test", "--reason", "r"}, 1, "no such list"},
		{"drop no list", []string{"drop", "nolist"}, 1, "no such list"},
		{"drop opt-out", []string{"drop", "opt-out"}, 2, "the opt-out list cannot be dropped"},
		{"opt-out of phones", []string{"import", "opt-out", file, "--kind", "phone"}, 2, "holds e-mail addresses only, not phone values"},
		{"opt-out as clearance", []string{"import", "opt-out", file, "--model", "clearance"}, 2, "is a deny list"},
		{"opt-out for one country", []string{"import", "opt-out", file, "--country", "FR"}, 2, "applies to every country"},
		{"opt-out ageing", []string{"import", "opt-out", file, "--max-age", "5d"}, 2, "never goes stale"},
		{"bad on-stale", []string{"import", "dnc", file, "--kind", "email", "--model", "deny", "--on-stale", "ignore"}, 2, `--on-stale "ignore"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dncgate(t, "", append(append([]string{"lists"}, c.args...), "--config", cfg)...).want(t, c.code, "stderr", c.want)
		})
	}
	broken := writeFile(t, data, "broken.csv", "a@x.test\n\xff@x.test\n")
	dncgate(t, "", "lists", "import", "dnc", broken, "--config", cfg, "--kind", "email", "--model", "deny").
		want(t, 1, "stderr", "list dnc not imported, it was not created", "line 2")
	dncgate(t, "", "lists", "show", "dnc", "--config", cfg).want(t, 1, "stderr", "no such list")
	dncgate(t, "", "lists", "import", "dnc", file, "--config", cfg, "--kind", "email", "--model", "deny").want(t, 0, "stdout", "imported")
	// A binary file, and the same read as the error text suggests: refused.
	binary := writeFile(t, data, "l.bin", "\x00\x01\x02\x00\xfe\xff\x00\x10\n\x00\x20\x30")
	dncgate(t, "", "lists", "import", "bin", binary, "--config", cfg, "--kind", "email", "--model", "deny").
		want(t, 1, "stderr", "it is binary", "--encoding utf-16le")
	dncgate(t, "", "lists", "import", "bin", binary, "--config", cfg, "--kind", "email", "--model", "deny", "--encoding", "utf-16le").
		want(t, 1, "stderr", "list bin not imported, it was not created", "rows is valid")
	dncgate(t, "", "lists", "show", "bin", "--config", cfg).want(t, 1, "stderr", "no such list")
	// A file with no valid row would empty the list: refused, the list as it was.
	none := writeFile(t, data, "none.csv", "not an address\nnor this\n")
	r := dncgate(t, "", "lists", "import", "dnc", none, "--config", cfg)
	r.want(t, 1, "stderr", "list dnc not imported, its current version stays in force", none+": none of its 2 rows is valid")
	r.want(t, 1, "stdout", "list dnc not imported", "invalid rows (first 2)")
	wantOnList(t, cfg, "dnc", map[string]bool{"a@x.test": true})
	if f := row(t, dncgate(t, "", "lists", "ls", "--config", cfg).stdout, "dnc"); f[4] != "1" {
		t.Errorf("lists ls after a refused import: %v, want 1 entry", f)
	}
	dncgate(t, "", "lists", "import", "dnc", file, "--config", cfg, "--kind", "phone").want(t, 2, "stderr", "holds email entries, not phone")
	dncgate(t, "", "lists", "add", "dnc", "a@x.test", "--config", cfg).want(t, 2, "stderr", "--reason")
	dncgate(t, "", "lists", "add", "dnc", "nope", "--config", cfg, "--reason", "r").want(t, 2, "stderr", `"nope"`)
}

// BenchmarkDigest measures keying one normalised value, the per-row cost
// the import adds to reading and normalising.
func BenchmarkDigest(b *testing.B) {
	d := listdb.NewDigester([]byte(capsKey), lists.KindEmail.String())
	var sink listdb.Digest
	for b.Loop() {
		sink = d.Digest("someone.long@example-company.test")
	}
	_ = sink
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "digests/s")
}

// TestParseCountriesTable: lists import --country reads the shared table
// as every other caller of package country does.
func TestParseCountriesTable(t *testing.T) {
	for _, c := range countrytest.Codes {
		got, err := parseCountries([]string{c.In})
		if c.Want == country.None {
			if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("%q", c.In)) {
				t.Errorf("--country %q = %v, %v; want an error naming it", c.In, got, err)
			}
			continue
		}
		if err != nil || len(got) != 1 || got[0] != c.Want.String() {
			t.Errorf("--country %q = %v, %v; want [%s]", c.In, got, err, c.Want)
		}
	}
}
