package stmtcache

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"

	_ "modernc.org/sqlite"
)

// TestCache: a statement is prepared once and handed out again; one on a
// table that does not exist yet fails, is not kept, and works once the
// table is made; Drop forgets the matching ones, Close all of them.
func TestCache(t *testing.T) {
	ctx := context.Background()
	db, err := sql.Open("sqlite", filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var c Cache
	const q = "SELECT count(*) FROM later "
	if _, err := c.Get(ctx, db, q); err == nil {
		t.Fatal("prepared a statement on a table that does not exist")
	}
	if _, err := db.Exec("CREATE TABLE later (x)"); err != nil {
		t.Fatal(err)
	}
	a, err := c.Get(ctx, db, q)
	if err != nil {
		t.Fatalf("after the table was made: %v", err)
	}
	if b, _ := c.Get(ctx, db, q); b != a {
		t.Fatal("prepared again instead of reusing the statement")
	}
	var n int
	if err := a.QueryRowContext(ctx).Scan(&n); err != nil || n != 0 {
		t.Fatalf("running it: %d, %v", n, err)
	}
	other, err := c.Get(ctx, db, "SELECT 1")
	if err != nil {
		t.Fatal(err)
	}
	c.Drop(func(query string) bool { return strings.Contains(query, " later ") })
	if err := a.QueryRowContext(ctx).Scan(&n); err == nil {
		t.Fatal("a dropped statement still runs")
	}
	if again, _ := c.Get(ctx, db, "SELECT 1"); again != other {
		t.Fatal("Drop forgot a statement it did not match")
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if err := other.QueryRowContext(ctx).Scan(&n); err == nil {
		t.Fatal("a statement still runs after Close")
	}
	if fresh, err := c.Get(ctx, db, "SELECT 1"); err != nil || fresh == other {
		t.Fatalf("after Close: %v, the same statement %v", err, fresh == other)
	}
}
