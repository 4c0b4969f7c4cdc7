package embedded

import (
	"context"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

func openTest(t *testing.T) (*Store, *time.Time) {
	t.Helper()
	s, err := Open(filepath.Join(t.TempDir(), "dncgate.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	s.SetClock(func() time.Time { return now })
	return s, &now
}

func rows(t *testing.T, s *Store, table string) int {
	t.Helper()
	var n int
	if err := s.r.QueryRow("SELECT count(*) FROM " + table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestMarkDeliveredPurgesExpiredRows(t *testing.T) {
	s, now := openTest(t)
	s.purgeEvery = 4
	ctx := context.Background()
	for i := range 10 {
		if err := s.MarkDelivered(ctx, "old-"+strconv.Itoa(i), "r", time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	*now = now.Add(2 * time.Minute)
	for i := range 6 { // the 12th mark purges
		if err := s.MarkDelivered(ctx, "new-"+strconv.Itoa(i), "r", time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	if n := rows(t, s, "deliveries"); n != 6 {
		t.Fatalf("%d rows left, want the 6 unexpired marks", n)
	}
}

func TestHitPurgesExpiredCounters(t *testing.T) {
	s, now := openTest(t)
	s.purgeEvery = 4
	ctx := context.Background()
	for i := range 3 {
		if _, err := s.Hit(ctx, "ip-"+strconv.Itoa(i), time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	*now = now.Add(2 * time.Minute)
	if _, err := s.Hit(ctx, "fresh", time.Minute); err != nil { // the 4th hit purges
		t.Fatal(err)
	}
	if n := rows(t, s, "counters"); n != 1 {
		t.Fatalf("%d counter rows left, want only the fresh one", n)
	}
}

func TestConnectionSettings(t *testing.T) {
	s, _ := openTest(t)
	for _, c := range []struct{ pragma, want string }{
		{"journal_mode", "wal"},
		{"busy_timeout", "5000"},
		{"synchronous", "1"}, // NORMAL
		{"query_only", "1"},  // on the read pool
	} {
		var got string
		if err := s.r.QueryRow("PRAGMA " + c.pragma).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != c.want {
			t.Errorf("PRAGMA %s = %s, want %s", c.pragma, got, c.want)
		}
	}
	if stats := s.w.Stats(); stats.MaxOpenConnections != 1 {
		t.Errorf("write pool allows %d connections, want 1", stats.MaxOpenConnections)
	}
}

// TestDeliveredUsesPrimaryKey guards the per-message lookup against a
// schema change that would turn it into a scan.
func TestDeliveredUsesPrimaryKey(t *testing.T) {
	s, _ := openTest(t)
	rows, err := s.r.Query("EXPLAIN QUERY PLAN "+qDelivered, "m", 0)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan += detail + "\n"
	}
	if want := "SEARCH deliveries USING PRIMARY KEY (msg=?)"; plan != want+"\n" {
		t.Fatalf("query plan:\n%swant %q", plan, want)
	}
}
