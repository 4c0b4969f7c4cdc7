package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/dncgate/dncgate/contactdb"
	"github.com/dncgate/dncgate/internal/testredis"
	"github.com/dncgate/dncgate/listdb"
	"github.com/dncgate/dncgate/lists"
)

// contactsConfig is a configuration on the store described by storeTOML
// with a known digest key, so the test can key values as the command does.
func contactsConfig(t testing.TB, storeTOML string) string {
	dir := t.TempDir()
	p := filepath.Join(dir, "dncgate.toml")
	text := fmt.Sprintf("%s\n\n[privacy]\nhmac_key = %q\n", storeTOML, capsKey)
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	initStore(t, "--config", p)
	return p
}

// wantContact is what a test expects the store to hold for an address:
// nil phones and found false for none.
type wantContact struct {
	found         bool
	country, kind string
	phones        []string // E.164
}

// checkStored compares, straight from the configured store, what it holds
// for each address with want, keyed as the command keys them.
func checkStored(t *testing.T, cfgPath string, want map[string]wantContact) {
	t.Helper()
	ctx := context.Background()
	_, st, key := openTestStore(t, cfgPath)
	db := st.Contacts()
	for addr, w := range want {
		got, ok, err := db.Contact(ctx, listdb.Key(key, lists.KindEmail.String(), addr))
		if err != nil {
			t.Fatalf("Contact(%s): %v", addr, err)
		}
		var phones []listdb.Digest
		for _, p := range w.phones {
			phones = append(phones, listdb.Key(key, lists.KindPhone.String(), p))
		}
		wantC := contactdb.Contact{Country: w.country, Type: w.kind, Phones: phones}
		if ok != w.found || ok && !sameStored(got, wantC) {
			t.Errorf("contact %s = %+v, %v; want %+v, %v", addr, got, ok, wantC, w.found)
		}
	}
}

func sameStored(a, b contactdb.Contact) bool {
	if a.Country != b.Country || a.Type != b.Type || len(a.Phones) != len(b.Phones) {
		return false
	}
	for i := range a.Phones {
		if a.Phones[i] != b.Phones[i] {
			return false
		}
	}
	return true
}

var contactsVersionLine = regexp.MustCompile(`(?m)^version: +(\S+)$`)

func contactsVersion(t *testing.T, cfg string) string {
	t.Helper()
	r := dncgate(t, "", "contacts", "status", "--config", cfg)
	m := contactsVersionLine.FindStringSubmatch(r.stdout)
	if r.code != 0 || m == nil {
		t.Fatalf("contacts status prints no version (exit %d):\n%s%s", r.code, r.stdout, r.stderr)
	}
	return m[1]
}

// crmExport is a semicolon export with headers in French and English, a
// name column the import ignores, two phone columns, a duplicate (the
// later row wins) and one invalid row of each kind.
const crmExport = "Nom;E-Mail;Téléphone;Mobile;Pays;Segment\n" +
	"Ann;ann@acme.test;01 23 45 67 89;06 12 34 56 78;fr;B2C\n" +
	"Bob;Bob@Firm.test;;+44 20 7946 0958;UK;Company\n" +
	"Cat;not-an-email;;;FR;b2b\n" +
	"Dan;dan@acme.test;12;;FR;b2b\n" +
	"Eve;eve@acme.test;;;France;b2b\n" +
	"Fay;fay@acme.test;;;DE;prospect\n" +
	"Gus;gus@x.test;;+32 470 12 34 56;;freelance\n" +
	"Ann again;ANN@acme.test;;06 12 34 56 78;FR;private\n"

func checkContactsCommands(t *testing.T, cfg string) {
	dir := t.TempDir()
	dncgate(t, "", "contacts", "status", "--config", cfg).want(t, 0, "stdout", "no contacts imported yet")
	export := writeFile(t, dir, "crm.csv", crmExport)
	dncgate(t, "", "contacts", "import", export, "--config", cfg, "--by", "alice").
		want(t, 0, "stdout", "imported contacts: version", "rows:       8", "valid:      4", "invalid:    4",
			"duplicates: 1", "entries:    3",
			"line 4, E-Mail: invalid email", "line 5, Téléphone: invalid phone",
			`line 6, Pays: "France" is not an ISO 3166-1 alpha-2 country code`, `line 7, Segment: recipient type "prospect"`)
	checkStored(t, cfg, map[string]wantContact{
		"ann@acme.test": {true, "FR", contactdb.TypeConsumer, []string{"+33612345678"}},
		"bob@firm.test": {true, "GB", contactdb.TypeBusiness, []string{"+442079460958"}},
		"gus@x.test":    {true, "", contactdb.TypeSoleTrader, []string{"+32470123456"}},
		"dan@acme.test": {}, "eve@acme.test": {}, "fay@acme.test": {},
	})
	dncgate(t, "", "contacts", "show", "Ann@ACME.test", "--config", cfg).
		want(t, 0, "stdout", "address:  ann@acme.test", "country:  FR", "type:     consumer", "language: unknown", "phones:   1")
	dncgate(t, "", "contacts", "show", "dan@acme.test", "--config", cfg).want(t, 1, "stderr", "no contact for dan@acme.test")
	dncgate(t, "", "contacts", "status", "--config", cfg).
		want(t, 0, "stdout", "by alice", "rows:         8", "duplicates:   1", "entries:      3", "file sha-256: ")
	v1 := contactsVersion(t, cfg)

	// A file that cannot be read to its end changes nothing.
	broken := writeFile(t, dir, "broken.csv", "email,phone\nzed@x.test,+33612345678\n\xff@x.test,\n")
	dncgate(t, "", "contacts", "import", broken, "--config", cfg).
		want(t, 1, "stderr", "current ones stay in force", "line 3", "not valid UTF-8")
	if v := contactsVersion(t, cfg); v != v1 {
		t.Errorf("after a failed import the version is %s, want %s", v, v1)
	}
	checkStored(t, cfg, map[string]wantContact{"zed@x.test": {}, "bob@firm.test": {true, "GB", contactdb.TypeBusiness, []string{"+442079460958"}}})

	// A dry run writes nothing.
	dncgate(t, "", "contacts", "import", export, "--config", cfg, "--dry-run").
		want(t, 0, "stdout", "dry run: contacts not changed", "valid:   4")
	if v := contactsVersion(t, cfg); v != v1 {
		t.Errorf("after a dry run the version is %s, want %s", v, v1)
	}

	// A re-import replaces the set: gzip, a UTF-8 byte-order mark before
	// the e-mail header, comma delimited, columns by flag, national numbers
	// in --region.
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	io.WriteString(zw, "\ufeffE-mail,Work,Cell,Kind\nhal@y.test,0470 12 34 56,0470123456,Sole Trader\n")
	zw.Close()
	zipped := writeFile(t, dir, "crm.csv.gz", gz.String())
	dncgate(t, "", "contacts", "import", zipped, "--config", cfg, "--phone-column", "Work",
		"--phone-column", "3", "--type-column", "kind", "--region", "be").
		want(t, 0, "stdout", "valid:      1", "entries:    1")
	checkStored(t, cfg, map[string]wantContact{
		"hal@y.test":    {true, "", contactdb.TypeSoleTrader, []string{"+32470123456"}},
		"ann@acme.test": {},
	})
	if v := contactsVersion(t, cfg); v == v1 {
		t.Errorf("re-import kept version %s", v1)
	}
}

func TestContactsCommandsEmbedded(t *testing.T) {
	data := t.TempDir()
	checkContactsCommands(t, contactsConfig(t, fmt.Sprintf("[server]\ndata_dir = %q", data)))
}

func TestContactsCommandsRedis(t *testing.T) {
	checkContactsCommands(t, contactsConfig(t, fmt.Sprintf("[store]\nbackend = \"redis\"\nredis_url = \"redis://%s/0\"", testredis.Start(t))))
}

// TestContactsWindows1252: an export saved by a spreadsheet in Windows-1252
// is read when declared, its accented header found.
func TestContactsWindows1252(t *testing.T) {
	cfg := contactsConfig(t, fmt.Sprintf("[server]\ndata_dir = %q", t.TempDir()))
	file := writeFile(t, t.TempDir(), "crm.csv", "Nom;Courriel;T\xe9l\xe9phone;Pays\nRen\xe9e;renee@z.test;06 12 34 56 78;FR\n")
	dncgate(t, "", "contacts", "import", file, "--config", cfg).want(t, 1, "stderr", "line 1", "not valid UTF-8")
	dncgate(t, "", "contacts", "import", file, "--config", cfg, "--encoding", "windows-1252").
		want(t, 0, "stdout", "valid:      1", "entries:    1")
	checkStored(t, cfg, map[string]wantContact{"renee@z.test": {true, "FR", "", []string{"+33612345678"}}})
}

func TestContactsCommandErrors(t *testing.T) {
	data := t.TempDir()
	cfg := contactsConfig(t, fmt.Sprintf("[server]\ndata_dir = %q", data))
	noEmail := writeFile(t, data, "a.csv", "name,phone\nA,+33612345678\n")
	twoEmails := writeFile(t, data, "b.csv", "email,mail\na@x.test,b@x.test\n")
	good := writeFile(t, data, "c.csv", "email\na@x.test\n")
	cases := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no email column", []string{"import", noEmail}, 1, "no column of the header row (name, phone) looks like an e-mail column; name it with --email-column"},
		{"two email columns", []string{"import", twoEmails}, 1, `columns "email" (1) and "mail" (2) both look like an e-mail column`},
		{"unknown column", []string{"import", good, "--phone-column", "fax"}, 1, `--phone-column: no column "fax"`},
		{"bad region", []string{"import", good, "--region", "Belgium"}, 2, `--region: "Belgium" is not an ISO 3166-1 alpha-2 country code`},
		{"bad encoding", []string{"import", good, "--encoding", "ebcdic"}, 2, "ebcdic"},
		{"missing file", []string{"import", filepath.Join(data, "none.csv")}, 1, "no such file"},
		{"bad address", []string{"show", "nobody"}, 2, `"nobody"`},
		{"two files", []string{"import", good, good}, 2, "want FILE"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dncgate(t, "", append(append([]string{"contacts"}, c.args...), "--config", cfg)...).want(t, c.code, "stderr", c.want)
		})
	}
	dncgate(t, "", "contacts", "status", "--config", cfg).want(t, 0, "stdout", "no contacts imported yet")

	// A file of which no row is valid does not replace the contacts; a
	// header that only looks like the type's can be left out.
	dncgate(t, "", "contacts", "import", good, "--config", cfg, "--email-column", "1").want(t, 0, "stdout", "entries:    1")
	leads := writeFile(t, data, "d.csv", "email,type\nb@x.test,lead\nc@x.test,customer\n")
	r := dncgate(t, "", "contacts", "import", leads, "--config", cfg)
	r.want(t, 1, "stderr", "contacts not imported, the current ones stay in force", "none of its 2 rows is valid")
	r.want(t, 1, "stdout", "contacts not imported", "invalid: 2", `line 3, type: recipient type "customer"`)
	checkStored(t, cfg, map[string]wantContact{"a@x.test": {found: true}, "b@x.test": {}})
	dncgate(t, "", "contacts", "import", leads, "--config", cfg, "--type-column", "none").want(t, 0, "stdout", "entries:    2")
	checkStored(t, cfg, map[string]wantContact{"a@x.test": {}, "b@x.test": {found: true}})
}

// TestContactsTooManyPhones: a row with more distinct numbers than a
// record keeps is refused whole, and the same number twice counts once.
func TestContactsTooManyPhones(t *testing.T) {
	cfg := contactsConfig(t, fmt.Sprintf("[server]\ndata_dir = %q", t.TempDir()))
	var head, many, same []string
	for i := range contactdb.MaxPhones + 1 {
		head = append(head, fmt.Sprintf("phone%d", i+1))
		many = append(many, fmt.Sprintf("+336123456%02d", i))
		same = append(same, "+33612345600")
	}
	file := writeFile(t, t.TempDir(), "crm.csv", "email,"+strings.Join(head, ",")+"\n"+
		"a@x.test,"+strings.Join(many, ",")+"\nb@x.test,"+strings.Join(same, ",")+"\n")
	dncgate(t, "", "contacts", "import", file, "--config", cfg).
		want(t, 0, "stdout", "valid:      1", "line 2: 9 phone numbers, at most 8")
	checkStored(t, cfg, map[string]wantContact{"a@x.test": {}, "b@x.test": {true, "", "", []string{"+33612345600"}}})
}

// BenchmarkContactsImport runs contacts import in process on a generated
// export of DNCGATE_BENCH_CONTACTS rows (default 200,000) with two phones
// each, on each store, and reports rows/s: reading, normalising, keying
// and storing.
// go test -run - -bench ContactsImport -benchtime 2x ./cmd/dncgate
func BenchmarkContactsImport(b *testing.B) {
	n := 200_000
	if s := os.Getenv("DNCGATE_BENCH_CONTACTS"); s != "" {
		if _, err := fmt.Sscan(s, &n); err != nil || n < 1 {
			b.Fatalf("DNCGATE_BENCH_CONTACTS=%q: want a positive count", s)
		}
	}
	file := benchExport(b, n)
	stores := map[string]func(b *testing.B) string{
		"embedded": func(b *testing.B) string {
			return contactsConfig(b, fmt.Sprintf("[server]\ndata_dir = %q", b.TempDir()))
		},
		"redis": func(b *testing.B) string {
			return contactsConfig(b, fmt.Sprintf("[store]\nbackend = \"redis\"\nredis_url = \"redis://%s/0\"", testredis.Start(b)))
		},
	}
	for _, name := range []string{"embedded", "redis"} {
		b.Run(name, func(b *testing.B) {
			cfg := stores[name](b)
			var out strings.Builder
			a := &app{stdin: strings.NewReader(""), stdout: &out, stderr: io.Discard}
			start := time.Now()
			for b.Loop() {
				out.Reset()
				if code := a.run(b.Context(), []string{"contacts", "import", file, "--config", cfg}); code != 0 {
					b.Fatalf("contacts import exited %d", code)
				}
			}
			if !strings.Contains(out.String(), "invalid:    0\n") {
				b.Fatalf("the generated export has invalid rows:\n%s", out.String())
			}
			b.ReportMetric(float64(b.N)*float64(n)/time.Since(start).Seconds(), "rows/s")
		})
	}
}

func benchExport(b *testing.B, n int) string {
	var sb strings.Builder
	sb.WriteString("id;first name;last name;email;phone;mobile;country;segment\n")
	countries := []string{"FR", "BE", "NL", "GB", "DE"}
	// A national landline and an international mobile of the row's
	// country, each from four two-digit groups.
	landlines := []string{"01 42 %02[2]d %02[3]d %02[4]d", "02 5%02[2]d %02[3]d %02[4]d", "020 5%02[2]d %02[3]d%02[4]d",
		"020 79%02[2]d %02[3]d%02[4]d", "030 %02[2]d%02[3]d%02[4]d"}
	mobiles := []string{"+33 6 %02d %02d %02d %02d", "+32 470 %02[2]d %02[3]d %02[4]d", "+31 6 12%02[2]d %02[3]d%02[4]d",
		"+44 7911 %02[2]d%02[3]d%02[4]d", "+49 151 %02d%02d%02d%02d"}
	types := []string{"b2b", "b2c", "freelance", ""}
	for i := range n {
		cc := i % len(countries)
		groups := []any{i / 1000000 % 100, i / 10000 % 100, i / 100 % 100, i % 100}
		fmt.Fprintf(&sb, "%d;First%d;Last%d;person%d@company%d.test;%s;%s;%s;%s\n", i, i, i, i, i%997,
			fmt.Sprintf(landlines[cc], groups...), fmt.Sprintf(mobiles[cc], groups...), countries[cc], types[i%len(types)])
	}
	p := filepath.Join(b.TempDir(), "crm.csv")
	if err := os.WriteFile(p, []byte(sb.String()), 0o600); err != nil {
		b.Fatal(err)
	}
	return p
}
