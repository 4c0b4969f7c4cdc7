package embedded_test

import (
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/dncgate/dncgate/listdb"
	"github.com/dncgate/dncgate/store/storetest"
)

func TestListsContract(t *testing.T) {
	storetest.RunLists(t, func(t *testing.T) storetest.ListHarness {
		path := filepath.Join(t.TempDir(), "dncgate.db")
		s := openAt(t, path)
		return storetest.ListHarness{Store: s, Stored: func(t *testing.T) int64 {
			return countRows(t, path, "list_entries")
		}, Reopen: func(t *testing.T) listdb.Store { return openAt(t, path) }}
	})
}

// countRows counts a table's rows through a connection of its own.
func countRows(t *testing.T, path, table string) int64 {
	t.Helper()
	db, err := sql.Open("sqlite", path+"?_query_only=1")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int64
	if err := db.QueryRow("SELECT count(*) FROM " + table).Scan(&n); err != nil {
		t.Fatalf("counting %s: %v", table, err)
	}
	return n
}

// BenchmarkListImport: go test -run - -bench ListImport -benchtime 3x ./store/embedded
func BenchmarkListImport(b *testing.B) {
	path := filepath.Join(b.TempDir(), "dncgate.db")
	s := openAt(b, path)
	storetest.BenchImport(b, s, "bench", func(b *testing.B) {
		fi, err := os.Stat(path)
		if err != nil {
			b.Fatal(err)
		}
		// The file also holds the replaced versions' freed pages.
		b.ReportMetric(float64(fi.Size())/storetest.BenchEntries, "file-B/entry")
	})
}

// TestListsTwoHandles: an import through one handle, as the admin command
// in its own process, is seen by the server's handle at its Commit, and a
// later import through the server's handle supersedes one left running.
func TestListsTwoHandles(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dncgate.db")
	server, admin := openAt(t, path), openAt(t, path)
	ctx := t.Context()
	if err := admin.PutList(ctx, listdb.Meta{Name: "l"}); err != nil {
		t.Fatal(err)
	}
	ds := storetest.RandomDigests(10)
	w, err := admin.BeginVersion(ctx, "l", 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Add(ctx, ds); err != nil {
		t.Fatal(err)
	}
	if got, err := server.Contains(ctx, "l", ds[0]); err != nil || got[0] {
		t.Fatalf("before Commit the server sees %v, %v", got, err)
	}
	if _, err := w.Commit(ctx, listdb.Version{}); err != nil {
		t.Fatal(err)
	}
	if got, err := server.Contains(ctx, "l", ds[0]); err != nil || !got[0] {
		t.Fatalf("after Commit the server sees %v, %v", got, err)
	}
	left, err := admin.BeginVersion(ctx, "l", 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := left.Add(ctx, storetest.RandomDigests(20)); err != nil {
		t.Fatal(err)
	}
	w2, err := server.BeginVersion(ctx, "l", 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := left.Commit(ctx, listdb.Version{}); !errors.Is(err, listdb.ErrSuperseded) {
		t.Fatalf("Commit of the superseded import: %v, want ErrSuperseded", err)
	}
	if err := w2.Abort(ctx); err != nil {
		t.Fatal(err)
	}
	if n := countRows(t, path, "list_entries"); n != int64(len(ds)) {
		t.Fatalf("%d entries stored, want the current version's %d", n, len(ds))
	}
}

// BenchmarkLookup measures a recipient's check of 5 lists.
// DNCGATE_BENCH_ENTRIES=200000 go test -run - -bench Lookup ./store/embedded
func BenchmarkLookup(b *testing.B) {
	storetest.BenchLookup(b, openAt(b, filepath.Join(b.TempDir(), "dncgate.db")), storetest.LookupBench{})
}

// TestListsMetaWithoutWarnStale: a description stored before WarnStale
// existed reads as not warning, and takes the field when put again.
func TestListsMetaWithoutWarnStale(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dncgate.db")
	s := openAt(t, path)
	ctx := t.Context()
	if err := s.PutList(ctx, listdb.Meta{Name: "l"}); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	old := `{"Name":"l","Kind":"email","Model":"deny","Countries":null,"MaxAge":0,"Source":"x"}`
	if _, err := db.Exec(`UPDATE lists SET meta = ? WHERE name = 'l'`, old); err != nil {
		t.Fatal(err)
	}
	if m, _, err := s.List(ctx, "l"); err != nil || m.WarnStale || m.Source != "x" {
		t.Fatalf("List of an older description = %+v, %v", m, err)
	}
	if err := s.PutList(ctx, listdb.Meta{Name: "l", WarnStale: true}); err != nil {
		t.Fatal(err)
	}
	if all, err := s.Lists(ctx); err != nil || len(all) != 1 || !all[0].Meta.WarnStale {
		t.Fatalf("Lists after PutList with WarnStale = %+v, %v", all, err)
	}
}
