package main

import (
	"archive/zip"
	"bytes"
	"compress/gzip"
	"fmt"
	"github.com/dncgate/dncgate/duration"
	"io"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/dncgate/dncgate/listdb"
	"github.com/dncgate/dncgate/listimport"
	"github.com/dncgate/dncgate/lists"
)

// wantNoBar fails when a run's stderr, which is no terminal, holds what
// only a progress bar writes.
func wantNoBar(t *testing.T, r result) {
	t.Helper()
	if strings.ContainsAny(r.stderr, "\r\x1b") {
		t.Errorf("stderr is no terminal but holds bar control characters: %q", r.stderr)
	}
}

// checkImportChanges imports files with repeats, also repeats that
// normalise equal, and checks the duplicates and the changes against the
// version in force.
func checkImportChanges(t *testing.T, cfg string) {
	dir := t.TempDir()
	one := writeFile(t, dir, "one.csv", "A@B.fr\na@b.fr\nc@d.fr\nC@D.FR\ne@f.fr\n")
	r := dncgate(t, "", "lists", "import", "dups", one, "--config", cfg, "--kind", "email", "--model", "deny")
	r.want(t, 0, "stdout", "imported list dups")
	wantNoBar(t, r)
	wantSummary(t, r.stdout, map[string]string{"valid": "5", "duplicates": "2", "entries": "3",
		"added": "3 (against no version before)", "removed": "0"})
	v1 := currentVersion(t, cfg, "dups")
	wantSummary(t, dncgate(t, "", "lists", "show", "dups", "--config", cfg).stdout, map[string]string{"duplicates": "2"})

	two := writeFile(t, dir, "two.csv", "c@d.fr\ne@f.fr\ng@h.fr\nG@h.fr\n")
	r = dncgate(t, "", "lists", "import", "dups", two, "--config", cfg, "--max-removal", "50%")
	r.want(t, 0, "stdout", "imported list dups")
	wantSummary(t, r.stdout, map[string]string{"valid": "4", "duplicates": "1", "entries": "3",
		"added": "1 (against version " + v1 + ")", "removed": "1"})
	wantOnList(t, cfg, "dups", map[string]bool{"a@b.fr": false, "c@d.fr": true, "g@h.fr": true})

	phones := writeFile(t, dir, "phones.txt", "06 12 34 56 78\n+33612345678\n+33 1 23 45 67 89\n")
	r = dncgate(t, "", "lists", "import", "tel", phones, "--config", cfg, "--kind", "phone", "--model", "deny", "--country", "FR")
	r.want(t, 0, "stdout", "imported list tel")
	wantSummary(t, r.stdout, map[string]string{"valid": "3", "duplicates": "1", "entries": "2"})
	if got := onListKind(t, cfg, "tel", lists.KindPhone, "+33612345678", "+33123456789", "+33699999999"); !slices.Equal(got, []bool{true, true, false}) {
		t.Errorf("tel holds %v, want [true true false]", got)
	}

	// A max age of a nanosecond makes the list stale at once.
	dncgate(t, "", "lists", "import", "old", one, "--config", cfg, "--kind", "email", "--model", "deny",
		"--max-age", "1ns", "--on-stale", "warn").want(t, 0, "stdout", "imported")
	wantState(t, cfg, "old", "stale (warn only)")
	dncgate(t, "", "lists", "show", "old", "--config", cfg).want(t, 0, "stdout", "on stale:     warn", "state:        stale (warn only)")
	dncgate(t, "", "lists", "import", "old", two, "--config", cfg, "--force").want(t, 0, "stdout", "imported")
	wantState(t, cfg, "old", "stale (warn only)") // kept when not given again
	dncgate(t, "", "lists", "import", "old", two, "--config", cfg, "--on-stale", "refuse").want(t, 0, "stdout", "imported")
	wantState(t, cfg, "old", "stale")
}

// wantState checks the STATE column of lists ls, which may hold spaces.
func wantState(t *testing.T, cfg, name, want string) {
	t.Helper()
	r := dncgate(t, "", "lists", "ls", "--config", cfg)
	if got := strings.Join(row(t, r.stdout, name)[9:], " "); got != want {
		t.Errorf("lists ls: %s is %q, want %q\n%s", name, got, want, r.stdout)
	}
}

// checkOptOutList checks that the opt-out list exists from the start,
// takes imports of e-mail addresses and keeps the opt-outs added by hand.
func checkOptOutList(t *testing.T, cfg string) {
	r := dncgate(t, "", "lists", "ls", "--config", cfg)
	if f := row(t, r.stdout, "opt-out"); strings.Join(f[1:4], " ") != "email deny all" {
		t.Errorf("lists ls: opt-out row %v", f)
	}
	dncgate(t, "", "lists", "add", "opt-out", "Kept@X.test", "--config", cfg, "--reason", "asked in person").
		want(t, 0, "stdout", "added kept@x.test to opt-out")
	// Opt-outs by hand count before any import: not "empty".
	if f := row(t, dncgate(t, "", "lists", "ls", "--config", cfg).stdout, "opt-out"); f[4] != "0+1" || f[len(f)-1] != "fresh" {
		t.Errorf("lists ls: opt-out row %v, want 0+1 entries, fresh", f)
	}
	dncgate(t, "", "lists", "show", "opt-out", "--config", cfg).want(t, 0, "stdout", "state:     fresh", "by hand:   1 added, 0 removed")
	file := writeFile(t, t.TempDir(), "unsubscribed.csv", "one@x.test\nTWO@x.test\nkept@x.test\n")
	r = dncgate(t, "", "lists", "import", "opt-out", file, "--config", cfg, "--kind", "email", "--country", "all")
	r.want(t, 0, "stdout", "imported list opt-out")
	// kept@x.test was on the list already, by hand.
	wantSummary(t, r.stdout, map[string]string{"entries": "3", "added": "2 (against no version before)"})
	wantOnList(t, cfg, "opt-out", map[string]bool{"kept@x.test": true, "one@x.test": true, "two@x.test": true, "three@x.test": false})

	// The version drops two and kept@x.test, which stays on by hand.
	v := currentVersion(t, cfg, "opt-out")
	again := writeFile(t, t.TempDir(), "again.csv", "one@x.test\n")
	r = dncgate(t, "", "lists", "import", "opt-out", again, "--config", cfg, "--force")
	r.want(t, 0, "stdout", "imported list opt-out")
	wantSummary(t, r.stdout, map[string]string{"entries": "1", "added": "0 (against version " + v + ")", "removed": "2"})
	wantOnList(t, cfg, "opt-out", map[string]bool{"kept@x.test": true, "one@x.test": true, "two@x.test": false})
	if f := row(t, dncgate(t, "", "lists", "ls", "--config", cfg).stdout, "opt-out"); f[len(f)-1] != "fresh" {
		t.Errorf("lists ls: opt-out row %v, want fresh", f)
	}
}

// checkImportInputs imports compressed files and files in other encodings.
func checkImportInputs(t *testing.T, cfg string) {
	dir := t.TempDir()
	cases := []struct {
		name, file string
		flags      []string
		want       string // normalised, on the list afterwards
	}{
		{"gzip", gzipFile(t, dir, "l.csv.gz", "gz@x.test\nGZ@x.test\n"), nil, "gz@x.test"},
		{"zip", zipFile(t, dir, "l.zip", "inner.csv", "email\nzip@x.test\n"), []string{"--header"}, "zip@x.test"},
		{"windows-1252", writeFile(t, dir, "cp.csv", "ren\xe9@caf\xe9.test\n"), []string{"--encoding", "windows-1252"}, normalEmail(t, "rené@café.test")},
		{"utf-16 bom", utf16File(t, dir, "u16.csv", "u16@x.test\r\nsecond@x.test\r\n"), nil, "second@x.test"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// Each file replaces the last one's entries.
			args := append([]string{"lists", "import", "inputs", c.file, "--config", cfg, "--kind", "email", "--model", "deny", "--force"}, c.flags...)
			r := dncgate(t, "", args...)
			r.want(t, 0, "stdout", "imported list inputs")
			wantSummary(t, r.stdout, map[string]string{"invalid": "0"})
			wantOnList(t, cfg, "inputs", map[string]bool{c.want: true})
		})
	}
}

func normalEmail(t *testing.T, s string) string {
	t.Helper()
	n, err := lists.NormaliseEmail(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func gzipFile(t *testing.T, dir, name, text string) string {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	io.WriteString(zw, text)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return writeFile(t, dir, name, b.String())
}

func zipFile(t *testing.T, dir, name, inner, text string) string {
	t.Helper()
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	w, err := zw.Create(inner)
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(w, text)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return writeFile(t, dir, name, b.String())
}

// utf16File writes text as UTF-16 little-endian after its byte-order mark.
func utf16File(t *testing.T, dir, name, text string) string {
	t.Helper()
	b := []byte{0xff, 0xfe}
	for _, u := range utf16.Encode([]rune(text)) {
		b = append(b, byte(u), byte(u>>8))
	}
	return writeFile(t, dir, name, string(b))
}

func TestImportProgressLines(t *testing.T) {
	var b bytes.Buffer
	p := newImportProgress(&b, false, "dnc", 1000)
	p.update(listimport.Progress{Rows: progressEvery - 1, Bytes: 10})
	p.update(listimport.Progress{Rows: progressEvery, Valid: progressEvery - 2, Invalid: 2, Bytes: 20})
	p.update(listimport.Progress{Stage: listimport.Storing, Rows: progressEvery, Valid: progressEvery - 2})
	p.done()
	want := fmt.Sprintf("lists import dnc: %d rows read, %d valid, 2 invalid\n", progressEvery, progressEvery-2) +
		fmt.Sprintf("lists import dnc: %d valid rows read, storing the distinct ones\n", progressEvery-2)
	if b.String() != want {
		t.Errorf("progress lines %q, want %q", b.String(), want)
	}
}

func TestImportProgressBar(t *testing.T) {
	var b bytes.Buffer
	p := newImportProgress(&b, true, "dnc", 4096)
	p.update(listimport.Progress{Rows: progressEvery, Bytes: 2048})
	drawn := b.String()
	p.done()
	if !strings.Contains(drawn, "lists import dnc") || !strings.Contains(drawn, "50%") {
		t.Errorf("bar at half way drew %q", drawn)
	}
	if strings.Contains(b.String(), "rows read") {
		t.Errorf("a terminal got progress lines: %q", b.String())
	}
	// Cleared at the end: the last thing written erases the line.
	if out := b.String(); !strings.HasSuffix(out, "\r") && !strings.HasSuffix(out, "\x1b[K") && !strings.HasSuffix(out, "\x1b[2K") {
		t.Errorf("bar not cleared at the end: %q", out[max(0, len(out)-40):])
	}
}

func TestFreshness(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	imported := listdb.Version{ID: "7", ImportedAt: now.Add(-2 * duration.Day)}
	cases := []struct {
		m    listdb.Meta
		v    listdb.Version
		want string
		man  listdb.Manual
	}{
		{listdb.Meta{}, listdb.Version{}, "empty", listdb.Manual{}},
		{listdb.Meta{}, listdb.Version{}, "fresh", listdb.Manual{Added: 1}},
		{listdb.Meta{}, listdb.Version{}, "empty", listdb.Manual{Removed: 1}},
		{listdb.Meta{MaxAge: duration.Day}, listdb.Version{}, "stale (never imported)", listdb.Manual{Added: 1}},
		{listdb.Meta{MaxAge: duration.Day}, listdb.Version{}, "stale (never imported)", listdb.Manual{}},
		{listdb.Meta{MaxAge: duration.Day, WarnStale: true}, listdb.Version{}, "stale (never imported, warn only)", listdb.Manual{}},
		{listdb.Meta{}, imported, "fresh", listdb.Manual{}},
		{listdb.Meta{MaxAge: 3 * duration.Day}, imported, "fresh", listdb.Manual{}},
		{listdb.Meta{MaxAge: duration.Day}, imported, "stale", listdb.Manual{}},
		{listdb.Meta{MaxAge: duration.Day, WarnStale: true}, imported, "stale (warn only)", listdb.Manual{}},
	}
	for _, c := range cases {
		if got := freshness(c.m, c.v, c.man, now); got != c.want {
			t.Errorf("freshness(%+v, %+v) = %q, want %q", c.m, c.v, got, c.want)
		}
	}
}

// TestImportRemovalLimit imports files that remove more of a list than
// its limit: by default, by the list's max_removal, by --max-removal, and
// forced.
func TestImportRemovalLimit(t *testing.T) {
	data := t.TempDir()
	cfg := initConfig(t, data, listsConfig(fmt.Sprintf("[server]\ndata_dir = %q\n\n"+
		"[[lists]]\nname = \"strict\"\nkind = \"email\"\nmodel = \"deny\"\ncountries = [\"all\"]\nmax_removal = 0.05", data)))
	ten := writeFile(t, data, "ten.csv", "a@x.test\nb@x.test\nc@x.test\nd@x.test\ne@x.test\nf@x.test\ng@x.test\nh@x.test\ni@x.test\nj@x.test\n")
	nine := writeFile(t, data, "nine.csv", "a@x.test\nb@x.test\nc@x.test\nd@x.test\ne@x.test\nf@x.test\ng@x.test\nh@x.test\ni@x.test\n")
	one := writeFile(t, data, "one.csv", "a@x.test\n")
	for _, name := range []string{"dnc", "strict"} {
		dncgate(t, "", "lists", "import", name, ten, "--config", cfg, "--kind", "email", "--model", "deny").want(t, 0, "stdout", "imported")
	}
	r := dncgate(t, "", "lists", "import", "dnc", one, "--config", cfg)
	r.want(t, 1, "stderr", "list dnc not imported, its current version stays in force", one+" would remove 90% of the entries in force, more than the limit of 20%",
		"(in force 10, in the new file 1, removed 9)", "--force")
	r.want(t, 1, "stdout", "list dnc not imported", "removed:    9")
	wantOnList(t, cfg, "dnc", map[string]bool{"j@x.test": true})
	dncgate(t, "", "lists", "import", "strict", nine, "--config", cfg).want(t, 1, "stderr", "10% of the entries in force, more than the limit of 5%")
	dncgate(t, "", "lists", "import", "strict", nine, "--config", cfg, "--max-removal", "10%").want(t, 0, "stdout", "imported list strict", "removed:    1")
	dncgate(t, "", "lists", "import", "dnc", one, "--config", cfg, "--max-removal", "half").want(t, 2, "stderr", `--max-removal: invalid share "half"`)
	dncgate(t, "", "lists", "import", "dnc", one, "--config", cfg, "--force").want(t, 0, "stdout", "imported list dnc", "removed:    9")
	wantOnList(t, cfg, "dnc", map[string]bool{"a@x.test": true, "j@x.test": false})
}
