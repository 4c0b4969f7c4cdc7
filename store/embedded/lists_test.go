package embedded_test

import (
	"database/sql"
	"os"
	"path/filepath"
	"testing"

	"github.com/dncgate/dncgate/store/storetest"
)

func TestListsContract(t *testing.T) {
	storetest.RunLists(t, func(t *testing.T) storetest.ListHarness {
		path := filepath.Join(t.TempDir(), "dncgate.db")
		s := openAt(t, path)
		return storetest.ListHarness{Store: s, Stored: func(t *testing.T) int64 {
			return countRows(t, path, "list_entries")
		}}
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
