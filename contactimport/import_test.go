package contactimport_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dncgate/dncgate/contactdb"
	"github.com/dncgate/dncgate/contactimport"
	"github.com/dncgate/dncgate/internal/teststore"
	"github.com/dncgate/dncgate/listdb"
	"github.com/dncgate/dncgate/lists"
)

var testKey = []byte("0123456789abcdef0123456789abcdef")

var importTime = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

const export = "Name;E-Mail;Téléphone;Pays;Segment\n" +
	"Ann;ann@acme.test;06 12 34 56 78;FR;consumer\n" +
	"Bob;bob@firm.test;+44 20 7946 0958;UK;business\n" +
	"Dan;not-an-address;;FR;consumer\n" +
	"Ann again;ANN@acme.test;06 12 34 56 78;FR;consumer\n"

func importText(t *testing.T, db contactdb.Store, text string, edit ...func(*contactimport.Options)) (contactimport.Report, error) {
	t.Helper()
	o := contactimport.Options{Key: testKey, File: "crm.csv", By: "ops", Now: func() time.Time { return importTime }}
	for _, e := range edit {
		e(&o)
	}
	return contactimport.Import(context.Background(), db, strings.NewReader(text), o)
}

func contact(t *testing.T, db contactdb.Store, addr string) (contactdb.Contact, bool) {
	t.Helper()
	c, ok, err := db.Contact(context.Background(), listdb.Key(testKey, lists.KindEmail.String(), addr))
	if err != nil {
		t.Fatal(err)
	}
	return c, ok
}

func version(t *testing.T, db contactdb.Store) contactdb.Version {
	t.Helper()
	v, err := db.Current(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestImport(t *testing.T) {
	teststore.Each(t, func(t *testing.T, st teststore.Store) {
		db := st.Contacts()
		var last contactimport.Progress
		rep, err := importText(t, db, export, func(o *contactimport.Options) {
			o.Progress = func(p contactimport.Progress) { last = p }
		})
		if err != nil {
			t.Fatal(err)
		}
		v := rep.Version
		if v.ID == "" || v.Rows != 4 || v.Valid != 3 || v.Invalid != 1 || v.Entries != 2 || v.Duplicates != 1 ||
			v.ImportedBy != "ops" || !v.ImportedAt.Equal(importTime) || len(v.FileSHA256) != 64 {
			t.Errorf("import: %+v", v)
		}
		if len(rep.Invalid) != 1 || !strings.HasPrefix(rep.Invalid[0], "line 4, E-Mail:") {
			t.Errorf("invalid rows %q", rep.Invalid)
		}
		if last.Rows != 4 || last.Valid != 3 || last.Bytes != int64(len(export)) {
			t.Errorf("last progress %+v", last)
		}
		phone := listdb.Key(testKey, lists.KindPhone.String(), "+33612345678")
		if c, ok := contact(t, db, "ann@acme.test"); !ok || c.Country != "FR" || c.Type != contactdb.TypeConsumer || !slices.Equal(c.Phones, []listdb.Digest{phone}) {
			t.Errorf("ann: %+v, %v", c, ok)
		}
		if c, ok := contact(t, db, "bob@firm.test"); !ok || c.Country != "GB" {
			t.Errorf("bob: %+v, %v", c, ok)
		}

		// Refused, each leaving the contacts as they are: no valid row, a
		// broken file, and a dry run writes nothing.
		_, err = importText(t, db, "email,phone\nnope,+33612345678\n")
		if !errors.Is(err, lists.ErrNoValidRow) || !strings.Contains(err.Error(), "crm.csv: none of its 1 rows is valid") {
			t.Errorf("no valid row: %v", err)
		}
		_, err = importText(t, db, "email,phone\n")
		if !errors.Is(err, lists.ErrNoValidRow) || !strings.Contains(err.Error(), "crm.csv: the file holds no rows") {
			t.Errorf("header only: %v", err)
		}
		_, err = importText(t, db, "email,phone\nzed@x.test,+33612345678\n\xff@x.test,\n")
		if err == nil || !strings.Contains(err.Error(), "current ones stay in force") || !strings.Contains(err.Error(), "line 3") {
			t.Errorf("broken file: %v", err)
		}
		rep, err = importText(t, db, "email\nzed@x.test\n", func(o *contactimport.Options) { o.DryRun = true })
		if err != nil || rep.Version.ID != "" || rep.Version.Valid != 1 {
			t.Errorf("dry run: %+v, %v", rep, err)
		}
		if got := version(t, db); got.ID != v.ID {
			t.Errorf("version %s after refused imports, want %s", got.ID, v.ID)
		}
		if _, ok := contact(t, db, "zed@x.test"); ok {
			t.Error("zed@x.test stored by a refused import")
		}

		// Columns by name and position, national numbers in the region.
		rep, err = importText(t, db, "mail,Work,Cell,Kind\nhal@y.test,0470 12 34 56,0470123456,Sole Trader\n",
			func(o *contactimport.Options) {
				o.Columns = contactimport.Columns{Phones: []string{"Work", "3"}, Type: "kind", Country: contactimport.NoColumn}
				o.Region = "BE"
			})
		if err != nil || rep.Version.Entries != 1 {
			t.Fatalf("columns by flag: %+v, %v", rep, err)
		}
		if c, ok := contact(t, db, "hal@y.test"); !ok || c.Type != contactdb.TypeSoleTrader || len(c.Phones) != 1 {
			t.Errorf("hal: %+v, %v", c, ok)
		}
		if _, ok := contact(t, db, "ann@acme.test"); ok {
			t.Error("the re-import kept ann@acme.test")
		}
	})
}

func TestImportColumnErrors(t *testing.T) {
	db := contactdb.Store(nil) // the columns are picked before the store is used
	cases := []struct {
		text string
		cols contactimport.Columns
		want string
	}{
		{"name,phone\nann,+33612345678\n", contactimport.Columns{}, "no column of the header row (name, phone) looks like an e-mail column"},
		{"email,mail\na@x.test,b@x.test\n", contactimport.Columns{}, `columns "email" (1) and "mail" (2) both look like an e-mail column`},
		{"email\na@x.test\n", contactimport.Columns{Email: "9"}, "--email-column"},
	}
	for _, c := range cases {
		_, err := importText(t, db, c.text, func(o *contactimport.Options) { o.Columns = c.cols; o.DryRun = true })
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "crm.csv: ") {
			t.Errorf("%q: %v, want %q", c.text, err, c.want)
		}
	}
}

// A language column is found by its header and read as ISO 639-1; a value
// that is not one makes its row invalid, naming it.
func TestImportLanguage(t *testing.T) {
	teststore.Each(t, func(t *testing.T, st teststore.Store) {
		db := st.Contacts()
		rep, err := importText(t, db, "email;country;langue\nmarie@acme.be;BE;fr-BE\npiet@acme.be;BE;NL\nx@acme.be;BE;flemish\nnone@acme.be;BE;\n")
		if err != nil {
			t.Fatal(err)
		}
		if rep.Version.Valid != 3 || len(rep.Invalid) != 1 || !strings.Contains(rep.Invalid[0], `"flemish"`) {
			t.Errorf("report %+v %q", rep.Version, rep.Invalid)
		}
		for addr, want := range map[string]string{"marie@acme.be": "fr", "piet@acme.be": "nl", "none@acme.be": ""} {
			if c, ok := contact(t, db, addr); !ok || c.Language != want || c.Country != "BE" {
				t.Errorf("%s: %+v, %v; want language %q", addr, c, ok, want)
			}
		}
	})
}
