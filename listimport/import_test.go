package listimport_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/dncgate/dncgate/internal/teststore"
	"github.com/dncgate/dncgate/listdb"
	"github.com/dncgate/dncgate/listimport"
	"github.com/dncgate/dncgate/lists"
)

var testKey = []byte("0123456789abcdef0123456789abcdef")

var importTime = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func dncMeta() listdb.Meta {
	return listdb.Meta{Name: "dnc", Kind: "email", Model: "deny", Source: "first"}
}

// importText imports text into the list m names.
func importText(t *testing.T, db listdb.Store, m listdb.Meta, text string, edit ...func(*listimport.Options)) (listimport.Report, error) {
	t.Helper()
	o := listimport.Options{Meta: m, Key: testKey, File: "l.csv", By: "ops", Now: func() time.Time { return importTime }}
	for _, e := range edit {
		e(&o)
	}
	return listimport.Import(context.Background(), db, strings.NewReader(text), o)
}

// wantHeld checks which normalised e-mail addresses the list holds.
func wantHeld(t *testing.T, db listdb.Store, name string, want map[string]bool) {
	t.Helper()
	for addr, w := range want {
		got, err := db.Contains(context.Background(), name, listdb.Key(testKey, lists.KindEmail.String(), addr))
		if err != nil {
			t.Fatal(err)
		}
		if got[0] != w {
			t.Errorf("list %s holds %s: %v, want %v", name, addr, got[0], w)
		}
	}
}

func current(t *testing.T, db listdb.Store, name string) (listdb.Meta, listdb.Version) {
	t.Helper()
	m, v, err := db.List(context.Background(), name)
	if err != nil {
		t.Fatalf("list %s: %v", name, err)
	}
	return m, v
}

func TestImport(t *testing.T) {
	teststore.Each(t, func(t *testing.T, db teststore.Store) {
		checkImportChanges(t, db)
		checkDryRun(t, db)
		checkFailureKeepsVersion(t, db)
		checkNoValidRow(t, db)
		checkRemovalLimit(t, db)
	})
}

// checkImportChanges imports a file with repeats, also repeats that
// normalise equal, then another, and checks the counts, the changes
// against the version in force and what the version records.
func checkImportChanges(t *testing.T, db listdb.Store) {
	one := "A@B.fr\na@b.fr\nc@d.fr\nC@D.FR\ne@f.fr\nnot an address\n"
	var seen []listimport.Progress
	rep, err := importText(t, db, dncMeta(), one, func(o *listimport.Options) {
		o.Progress = func(p listimport.Progress) { seen = append(seen, p) }
	})
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(one))
	v := rep.Version
	if !rep.Created || v.ID == "" || v.Rows != 6 || v.Valid != 5 || v.Invalid != 1 || v.Duplicates != 2 || v.Entries != 3 ||
		rep.Added != 3 || rep.Removed != 0 || rep.Previous.ID != "" {
		t.Errorf("first import: %+v", rep)
	}
	if v.FileSHA256 != hex.EncodeToString(sum[:]) || v.ImportedBy != "ops" || !v.ImportedAt.Equal(importTime) {
		t.Errorf("first import recorded sha-256 %s, by %q, at %v", v.FileSHA256, v.ImportedBy, v.ImportedAt)
	}
	if len(rep.Invalid) != 1 || !strings.HasPrefix(rep.Invalid[0], "line 6") {
		t.Errorf("invalid rows %q, want line 6", rep.Invalid)
	}
	if _, stored := current(t, db, "dnc"); stored.ID != v.ID || stored.Entries != 3 || stored.Duplicates != 2 || stored.ImportedBy != "ops" {
		t.Errorf("stored version %+v, want %+v", stored, v)
	}
	wantProgress(t, seen, int64(len(one)), 6)
	wantHeld(t, db, "dnc", map[string]bool{"a@b.fr": true, "c@d.fr": true, "e@f.fr": true, "g@h.fr": false})

	m := dncMeta()
	m.Source = "second"
	half := 0.5 // it removes a third of the list
	rep, err = importText(t, db, m, "c@d.fr\ne@f.fr\ng@h.fr\nG@h.fr\n", func(o *listimport.Options) { o.MaxRemoval = &half })
	if err != nil {
		t.Fatal(err)
	}
	if rep.Created || rep.Version.Entries != 3 || rep.Version.Duplicates != 1 || rep.Added != 1 || rep.Removed != 1 || rep.Previous.ID != v.ID {
		t.Errorf("second import: %+v", rep)
	}
	if got, _ := current(t, db, "dnc"); got.Source != "second" {
		t.Errorf("description after the import: source %q, want second", got.Source)
	}
	// The comparison is kept with the version, for its history.
	if _, stored, err := db.List(t.Context(), "dnc"); err != nil || !stored.Compared || stored.Added != 1 || stored.Removed != 1 {
		t.Errorf("stored version %+v, %v; want added 1, removed 1", stored, err)
	}
	wantHeld(t, db, "dnc", map[string]bool{"a@b.fr": false, "c@d.fr": true, "g@h.fr": true})
}

// wantProgress checks the callback saw every row read, then the storing.
func wantProgress(t *testing.T, seen []listimport.Progress, size, rows int64) {
	t.Helper()
	if len(seen) != int(rows)+1 {
		t.Fatalf("progress called %d times, want %d", len(seen), rows+1)
	}
	for i, p := range seen[:rows] {
		if p.Stage != listimport.Reading || p.Rows != int64(i+1) || p.Valid+p.Invalid != p.Rows || p.Bytes <= 0 {
			t.Errorf("progress %d: %+v", i, p)
		}
	}
	if last := seen[rows]; last.Stage != listimport.Storing || last.Rows != rows || last.Bytes != size {
		t.Errorf("progress when storing: %+v, want %d rows, %d bytes", last, rows, size)
	}
}

func checkDryRun(t *testing.T, db listdb.Store) {
	dry := func(o *listimport.Options) { o.DryRun, o.Force = true, true }
	_, before := current(t, db, "dnc")
	rep, err := importText(t, db, dncMeta(), "x@y.fr\nz@y.fr\n", dry)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.DryRun || rep.Version.ID != "" || rep.Version.Entries != 2 || rep.Added != 2 || rep.Removed != 3 {
		t.Errorf("dry run: %+v", rep)
	}
	if m, after := current(t, db, "dnc"); after.ID != before.ID || m.Source != "second" {
		t.Errorf("a dry run changed the list: %+v, %+v", m, after)
	}
	wantHeld(t, db, "dnc", map[string]bool{"x@y.fr": false, "c@d.fr": true})
	m := dncMeta()
	m.Name = "dry"
	if _, err := importText(t, db, m, "x@y.fr\n", dry); err != nil {
		t.Fatal(err)
	}
	if _, _, err := db.List(context.Background(), "dry"); !errors.Is(err, listdb.ErrNotFound) {
		t.Errorf("a dry run of a new list created it: %v", err)
	}
}

// checkFailureKeepsVersion imports files that cannot be read to their
// end: the version in force stays, and a new list is not created.
func checkFailureKeepsVersion(t *testing.T, db listdb.Store) {
	broken := "a@x.test\n\xff@x.test\n"
	_, before := current(t, db, "dnc")
	_, err := importText(t, db, dncMeta(), broken)
	if err == nil || !strings.Contains(err.Error(), "list dnc not imported, its current version stays in force") ||
		!strings.Contains(err.Error(), "l.csv") || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("broken file: %v", err)
	}
	if _, after := current(t, db, "dnc"); after.ID != before.ID {
		t.Errorf("a failed import changed the version: %s, was %s", after.ID, before.ID)
	}
	m := dncMeta()
	m.Name = "fresh"
	if _, err := importText(t, db, m, broken); err == nil || !strings.Contains(err.Error(), "list fresh not imported, it was not created") {
		t.Errorf("broken file for a new list: %v", err)
	}
	if _, _, err := db.List(context.Background(), "fresh"); !errors.Is(err, listdb.ErrNotFound) {
		t.Errorf("a failed import left the new list: %v", err)
	}
	m.Kind = ""
	if _, err := importText(t, db, m, "a@x.test\n"); err == nil || !strings.Contains(err.Error(), "is new: give its kind and model") {
		t.Errorf("new list without a kind: %v", err)
	}
}

// TestImportPhonesRegion reads national numbers in the list's single
// country when no region is given.
func TestImportPhonesRegion(t *testing.T) {
	teststore.Each(t, func(t *testing.T, db teststore.Store) {
		m := listdb.Meta{Name: "tel", Kind: "phone", Model: "deny", Countries: []string{"FR"}}
		rep, err := importText(t, db, m, "06 12 34 56 78\n+33612345678\n+33 1 23 45 67 89\n")
		if err != nil {
			t.Fatal(err)
		}
		if rep.Version.Entries != 2 || rep.Version.Duplicates != 1 {
			t.Errorf("phones: %+v", rep.Version)
		}
		got, err := db.Contains(context.Background(), "tel", listdb.Key(testKey, lists.KindPhone.String(), "+33612345678"))
		if err != nil || !got[0] {
			t.Errorf("tel holds +33612345678: %v, %v", got, err)
		}
	})
}

// checkNoValidRow imports files with no valid row: refused, the version
// in force unchanged, a new list not created, the file named.
func checkNoValidRow(t *testing.T, db listdb.Store) {
	_, before := current(t, db, "dnc")
	utf16 := func(o *listimport.Options) { o.Read.Encoding = lists.EncodingUTF16LE }
	cases := []struct {
		text, want string
		edit       func(*listimport.Options)
	}{
		{"not an address\nnor this\n", "l.csv: none of its 2 rows is valid", func(*listimport.Options) {}},
		{"email\n", "l.csv: the file holds no rows", func(o *listimport.Options) { o.Read.Header = true }},
		// A binary file read as the NUL bytes' error text suggests.
		{"\x00\x01\x02\x00\xfe\xff\x00\x10\n\x00\x20\x30", "rows is valid", utf16},
	}
	for _, c := range cases {
		rep, err := importText(t, db, dncMeta(), c.text, c.edit)
		if !errors.Is(err, lists.ErrNoValidRow) || !listimport.Refused(err) || !strings.Contains(err.Error(), c.want) ||
			!strings.Contains(err.Error(), "its current version stays in force") {
			t.Errorf("%q: %v, want %q", c.text, err, c.want)
		}
		if rep.Version.ID != "" || rep.Version.Valid != 0 {
			t.Errorf("%q: report %+v", c.text, rep)
		}
		if _, after := current(t, db, "dnc"); after.ID != before.ID {
			t.Errorf("%q changed the version in force: %s, was %s", c.text, after.ID, before.ID)
		}
	}
	m := dncMeta()
	m.Name = "empty"
	if _, err := importText(t, db, m, "nope\n", func(o *listimport.Options) { o.DryRun = true }); !errors.Is(err, lists.ErrNoValidRow) {
		t.Errorf("dry run of a file with no valid row: %v", err)
	}
	if _, err := importText(t, db, m, "nope\n"); !strings.Contains(err.Error(), "list empty not imported, it was not created") {
		t.Errorf("new list from a file with no valid row: %v", err)
	}
	if _, _, err := db.List(context.Background(), "empty"); !errors.Is(err, listdb.ErrNotFound) {
		t.Errorf("a refused import left the new list: %v", err)
	}
}

func addrs(from, to int) string {
	var b strings.Builder
	for i := from; i < to; i++ {
		fmt.Fprintf(&b, "p%d@x.test\n", i)
	}
	return b.String()
}

// checkRemovalLimit imports versions that remove more or less of the
// entries in force than the limit.
func checkRemovalLimit(t *testing.T, db listdb.Store) {
	m := listdb.Meta{Name: "big", Kind: "email", Model: "deny"}
	if _, err := importText(t, db, m, addrs(0, 10)); err != nil {
		t.Fatal(err)
	}
	// Two of ten is the default limit, not more: taken.
	if rep, err := importText(t, db, m, addrs(0, 8)+"new@x.test\n"); err != nil || rep.Removed != 2 {
		t.Fatalf("removing 20%%: %+v, %v", rep, err)
	}
	_, before := current(t, db, "big")
	for _, c := range []struct {
		name string
		edit func(*listimport.Options)
		want string
	}{
		{"default", func(*listimport.Options) {}, "l.csv would remove 44.4% of the entries in force, more than the limit of 20% (in force 9, in the new file 5, removed 4)"},
		{"dry run", func(o *listimport.Options) { o.DryRun = true }, "more than the limit of 20%"},
		{"limit 40%", func(o *listimport.Options) { f := 0.4; o.MaxRemoval = &f }, "more than the limit of 40%"},
	} {
		rep, err := importText(t, db, m, addrs(0, 5), c.edit)
		if !errors.Is(err, listimport.ErrTooManyRemoved) || !listimport.Refused(err) || !strings.Contains(err.Error(), c.want) ||
			!strings.Contains(err.Error(), "list big not imported, its current version stays in force") {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
		if rep.Removed != 4 || rep.Version.Entries != 5 || rep.Version.ID != "" {
			t.Errorf("%s: report %+v", c.name, rep)
		}
		if _, after := current(t, db, "big"); after.ID != before.ID {
			t.Errorf("%s: the refused import changed the version in force", c.name)
		}
	}
	wantHeld(t, db, "big", map[string]bool{"p7@x.test": true, "new@x.test": true})
	zero := 0.0
	if _, err := importText(t, db, m, addrs(0, 8), func(o *listimport.Options) { o.MaxRemoval = &zero }); !errors.Is(err, listimport.ErrTooManyRemoved) {
		t.Errorf("a limit of 0 took a file removing one entry: %v", err)
	}
	half := 0.5
	if _, err := importText(t, db, m, addrs(0, 5), func(o *listimport.Options) { o.MaxRemoval = &half }); err != nil {
		t.Errorf("removing 44%% under a limit of 50%%: %v", err)
	}
	if rep, err := importText(t, db, m, "p0@x.test\n", func(o *listimport.Options) { o.Force = true }); err != nil || rep.Removed != 4 {
		t.Errorf("forced: %+v, %v", rep, err)
	}
	wantHeld(t, db, "big", map[string]bool{"p0@x.test": true, "p1@x.test": false})
}
