package embedded_test

import (
	"database/sql"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dncgate/dncgate/caps"
	"github.com/dncgate/dncgate/store"
	"github.com/dncgate/dncgate/store/storetest"
)

func TestCapsContract(t *testing.T) {
	storetest.RunCaps(t, func(t *testing.T) caps.Store {
		return openAt(t, filepath.Join(t.TempDir(), "dncgate.db"))
	})
}

// TestCapsTwoHandlesShareCounts: two stores open on one file, as two
// processes, see each other's holds, sends and releases at once.
// (Concurrent reservations through three handles are in package caps.)
func TestCapsTwoHandlesShareCounts(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dncgate.db")
	a, b := openAt(t, path), openAt(t, path)
	ctx := t.Context()
	req := func(id string) caps.Request {
		return caps.Request{Slot: caps.Slot{Key: "k", ID: id, Window: time.Hour, Hold: time.Minute}, Limit: 2}
	}
	for _, step := range []struct {
		st     caps.Store
		id     string
		wantOK bool
	}{{a, "m1", true}, {b, "m2", true}, {a, "m3", false}, {b, "m3", false}} {
		res, err := step.st.Reserve(ctx, []caps.Request{req(step.id)}, epoch)
		if err != nil || res[0].OK != step.wantOK {
			t.Fatalf("Reserve(%s) = %+v, %v; want OK=%v", step.id, res, err, step.wantOK)
		}
	}
	if err := a.Commit(ctx, []caps.Slot{req("m2").Slot}, epoch); err != nil {
		t.Fatal(err)
	}
	if err := b.Release(ctx, []caps.Slot{req("m1").Slot}); err != nil {
		t.Fatal(err)
	}
	if u, err := b.Usage(ctx, "k", 2, time.Hour, epoch); err != nil || u.Count != 1 {
		t.Fatalf("Usage through the other handle = %+v, %v; want the one send", u, err)
	}
	if res, err := a.Reserve(ctx, []caps.Request{req("m3")}, epoch); err != nil || !res[0].OK {
		t.Fatalf("Reserve after the release = %+v, %v", res, err)
	}
}

// TestCapsMigrateFromFirstSchema opens a file left at schema version 1
// (before caps) and expects the cap tables to be added and the old rows
// kept.
func TestCapsMigrateFromFirstSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dncgate.db")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`CREATE TABLE counters (key TEXT PRIMARY KEY, count INTEGER NOT NULL, expires_at INTEGER NOT NULL) WITHOUT ROWID`,
		`CREATE TABLE users (email TEXT PRIMARY KEY, role TEXT NOT NULL, send_as TEXT NOT NULL,
			password_hash BLOB NOT NULL, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL) WITHOUT ROWID`,
		`CREATE TABLE deliveries (msg TEXT NOT NULL, rcpt TEXT NOT NULL, expires_at INTEGER NOT NULL,
			PRIMARY KEY (msg, rcpt)) WITHOUT ROWID`,
		`INSERT INTO counters VALUES ('k', 7, 9000000000000000000)`,
		`INSERT INTO users VALUES ('old@example.fr', 'admin', '["old@example.fr"]', x'2432', 1000, 2000)`,
		`PRAGMA user_version = 1`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	db.Close()
	s := openAt(t, path)
	if n, err := s.Count(t.Context(), "k"); err != nil || n != 7 {
		t.Fatalf("counter after migration = %d, %v; want 7", n, err)
	}
	// A user written before the disabled and last-login columns reads
	// as enabled and never logged in, the rest as it was.
	u, err := s.User(t.Context(), "old@example.fr")
	if err != nil || u.Role != store.RoleAdmin || u.Disabled || !u.DisabledAt.IsZero() || !u.LastLogin.IsZero() ||
		string(u.PasswordHash) != "$2" || u.CreatedAt.UnixNano() != 1000 {
		t.Fatalf("user after migration = %+v, %v", u, err)
	}
	r := caps.Request{Slot: caps.Slot{Key: "k", ID: "m", Window: time.Hour, Hold: time.Minute}, Limit: 1}
	if res, err := s.Reserve(t.Context(), []caps.Request{r}, epoch); err != nil || !res[0].OK {
		t.Fatalf("Reserve after migration = %+v, %v", res, err)
	}
	var v int
	if err := s.Ping(t.Context()); err != nil {
		t.Fatal(err)
	}
	db, _ = sql.Open("sqlite", path)
	defer db.Close()
	if err := db.QueryRow("PRAGMA user_version").Scan(&v); err != nil || v != 7 {
		t.Fatalf("user_version = %d (%v), want 7 (the latest)", v, err)
	}
}

// TestCapsPurgeExpiredRows: rows of keys nobody touches again are deleted
// by later writes on other keys.
func TestCapsPurgeExpiredRows(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dncgate.db")
	s := openAt(t, path)
	ctx := t.Context()
	const old = 20
	slot := func(i int) caps.Slot {
		return caps.Slot{Key: fmt.Sprintf("old%d", i), ID: "m", Window: time.Hour, Hold: time.Minute}
	}
	for i := range old {
		if _, err := s.Reserve(ctx, []caps.Request{{Slot: slot(i), Limit: 1}}, epoch); err != nil {
			t.Fatal(err)
		}
		if i%2 == 0 { // half become sends, half stay holds
			if err := s.Commit(ctx, []caps.Slot{slot(i)}, epoch); err != nil {
				t.Fatal(err)
			}
		}
	}
	later := epoch.Add(2 * time.Hour)
	for i := range old {
		sl := caps.Slot{Key: fmt.Sprintf("new%d", i), ID: "m", Window: time.Hour, Hold: time.Minute}
		if err := s.Commit(ctx, []caps.Slot{sl}, later); err != nil {
			t.Fatal(err)
		}
	}
	db, err := sql.Open("sqlite", path+"?_query_only=1")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var sends, holds int
	if err := db.QueryRow(`SELECT (SELECT count(*) FROM cap_sends WHERE key LIKE 'old%'),
		(SELECT count(*) FROM cap_holds)`).Scan(&sends, &holds); err != nil {
		t.Fatal(err)
	}
	if sends != 0 || holds != 0 {
		t.Fatalf("after %d later writes, %d expired sends and %d expired holds remain", old, sends, holds)
	}
}

// TestCapsCountsMigrateAndFollowEveryWrite opens a file of schema version
// 4, whose sends were never counted in cap_send_counts, and expects the
// migration to count them; then the counts follow commits, the window
// moving on and a reset.
func TestCapsCountsMigrateAndFollowEveryWrite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dncgate.db")
	s := openAt(t, path)
	ctx := t.Context()
	req := func(id string) caps.Request {
		return caps.Request{Slot: caps.Slot{Key: "k", ID: id, Window: time.Hour, Hold: time.Minute}, Limit: 3}
	}
	for _, id := range []string{"a", "b", "c"} {
		if err := s.Commit(ctx, []caps.Slot{req(id).Slot}, epoch); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{`DROP TRIGGER cap_sends_counted`, `DROP TRIGGER cap_sends_uncounted`,
		`DROP TABLE cap_send_counts`, `ALTER TABLE users DROP COLUMN disabled`,
		`ALTER TABLE users DROP COLUMN disabled_at`, `ALTER TABLE users DROP COLUMN disabled_by`,
		`ALTER TABLE users DROP COLUMN last_login`, `PRAGMA user_version = 4`} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	db.Close()
	s = openAt(t, path)
	if res, err := s.Reserve(ctx, []caps.Request{req("d")}, epoch.Add(time.Minute)); err != nil || res[0].OK || res[0].Count != 3 {
		t.Fatalf("after the migration, a 4th send = %+v, %v; want refused at 3", res, err)
	}
	// a, b and c leave the window, f stays in it
	if err := s.Commit(ctx, []caps.Slot{req("f").Slot}, epoch.Add(30*time.Minute)); err != nil {
		t.Fatal(err)
	}
	later := epoch.Add(time.Hour + time.Minute)
	if res, err := s.Reserve(ctx, []caps.Request{req("d")}, later); err != nil || !res[0].OK || res[0].Count != 2 {
		t.Fatalf("once a, b and c left the window = %+v, %v; want granted as the 2nd (f, d)", res, err)
	}
	if err := s.Reset(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	if res, err := s.Reserve(ctx, []caps.Request{req("e")}, later); err != nil || !res[0].OK || res[0].Count != 1 {
		t.Fatalf("after a reset = %+v, %v; want granted as the 1st", res, err)
	}
}

// TestCapsConcurrentReservationsShareCommits: reservations made at once
// are committed together, each in its own savepoint, so a refused one
// leaves no hold and the granted ones are exactly the limit.
func TestCapsConcurrentReservationsShareCommits(t *testing.T) {
	s := openAt(t, filepath.Join(t.TempDir(), "dncgate.db"))
	ctx := t.Context()
	const n, limit = 40, 7
	var granted atomic.Int32
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			reqs := []caps.Request{
				{Slot: caps.Slot{Key: fmt.Sprintf("own%d", i), ID: "m", Window: time.Hour, Hold: time.Minute}, Limit: 1},
				{Slot: caps.Slot{Key: "shared", ID: fmt.Sprint(i), Window: time.Hour, Hold: time.Minute}, Limit: limit},
			}
			res, err := s.Reserve(ctx, reqs, epoch)
			if err != nil {
				t.Error(err)
				return
			}
			if res[1].OK {
				granted.Add(1)
			}
		})
	}
	wg.Wait()
	if g := granted.Load(); g != limit {
		t.Fatalf("%d of %d reservations granted, want the limit %d", g, n, limit)
	}
	// a refused call rolled back its own key's hold too: each own key
	// holds a slot only for the granted calls
	held := 0
	for i := range n {
		u, err := s.Usage(ctx, fmt.Sprintf("own%d", i), 1, time.Hour, epoch)
		if err != nil {
			t.Fatal(err)
		}
		held += u.Count
	}
	if held != limit {
		t.Fatalf("%d own keys hold a slot, want %d", held, limit)
	}
}
