package sqlite

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	"github.com/dncgate/dncgate/ledger/ledgertest"
)

// oldTableDDL is a month table as the first layout made it.
func oldTableDDL(t string) string {
	return `CREATE TABLE ` + t + ` (
	id TEXT NOT NULL, at INTEGER NOT NULL, ref TEXT NOT NULL, rep TEXT NOT NULL, sender TEXT NOT NULL,
	rcpt_masked TEXT NOT NULL, rcpt_digest BLOB, domain TEXT NOT NULL, country TEXT NOT NULL,
	country_from TEXT NOT NULL, rcpt_type TEXT NOT NULL, rule TEXT NOT NULL, verdict TEXT NOT NULL,
	reason TEXT NOT NULL, match_list TEXT NOT NULL, match_version TEXT NOT NULL, match_key TEXT NOT NULL,
	lists TEXT NOT NULL, cap TEXT NOT NULL, listener TEXT NOT NULL, client TEXT NOT NULL,
	subject TEXT NOT NULL, outcome TEXT NOT NULL, reply TEXT NOT NULL, outcome_at INTEGER,
	PRIMARY KEY (at, id)) WITHOUT ROWID;
CREATE INDEX ` + t + `_rep ON ` + t + `(rep, at, id);
CREATE INDEX ` + t + `_digest ON ` + t + `(rcpt_digest, at, id) WHERE rcpt_digest IS NOT NULL;
CREATE INDEX ` + t + `_ref ON ` + t + `(ref);`
}

// A ledger file written by the first layout is moved to the packed one
// when opened, every field kept; opening it again changes nothing.
func TestOpenMigratesFirstLayout(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ledger.db")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	ds := ledgertest.OldCorpus()
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	made := map[string]bool{}
	for _, d := range ds {
		tab := table(d.At)
		if !made[tab] {
			if _, err := tx.Exec(oldTableDDL(tab)); err != nil {
				t.Fatal(err)
			}
			made[tab] = true
		}
		args := ledgertest.OldArgs(d, func(t time.Time) any { return t.UnixNano() })
		if _, err := tx.Exec("INSERT INTO "+tab+" ("+ledgertest.OldColumns+") VALUES ("+ledgertest.OldPlaceholders+")", args...); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if len(made) < 3 {
		t.Fatalf("the corpus fills %d month tables, want several", len(made))
	}
	l, err := Open(path, ledgertest.DefaultRetention)
	if err != nil {
		t.Fatal(err)
	}
	ledgertest.CheckMigrated(t, l, ds)
	l.Close()
	l, err = Open(path, ledgertest.DefaultRetention)
	if err != nil {
		t.Fatalf("opening a migrated ledger again: %v", err)
	}
	defer l.Close()
	if got, err := l.Transaction(context.Background(), "AFTER"); err != nil || len(got) != 1 {
		t.Fatalf("a migrated ledger opened again: Transaction(AFTER) = %d decisions, %v; want 1", len(got), err)
	}
}
