package postgres

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dncgate/dncgate/internal/testpg"
	"github.com/dncgate/dncgate/ledger"
	"github.com/dncgate/dncgate/ledger/ledgersql"
	"github.com/dncgate/dncgate/ledger/ledgertest"
)

// oldSchema is the decisions table as the first layout made it.
const oldSchema = `
CREATE TABLE decisions (
	id text NOT NULL, at timestamptz NOT NULL, ref text NOT NULL, rep text NOT NULL, sender text NOT NULL,
	rcpt_masked text NOT NULL, rcpt_digest bytea, domain text NOT NULL, country text NOT NULL,
	country_from text NOT NULL, rcpt_type text NOT NULL, rule text NOT NULL, verdict text NOT NULL,
	reason text NOT NULL, match_list text NOT NULL, match_version text NOT NULL, match_key text NOT NULL,
	lists text NOT NULL, cap text NOT NULL, listener text NOT NULL, client text NOT NULL,
	subject text NOT NULL, outcome text NOT NULL, reply text NOT NULL, outcome_at timestamptz,
	PRIMARY KEY (at, id)
) PARTITION BY RANGE (at);
CREATE INDEX decisions_rep ON decisions (rep, at, id);
CREATE INDEX decisions_digest ON decisions (rcpt_digest, at, id) WHERE rcpt_digest IS NOT NULL;
CREATE INDEX decisions_ref ON decisions (ref);`

// A database written by the first layout is moved to the packed one when
// opened, every field kept; opening it again changes nothing.
func TestOpenMigratesFirstLayout(t *testing.T) {
	srv := testpg.Start(t)
	url := srv.NewDatabase(t)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, oldSchema); err != nil {
		t.Fatal(err)
	}
	for m := ledger.Month(ledgertest.Base.AddDate(0, -3, 0)); m.Before(ledgertest.Base.AddDate(0, 3, 0)); m = m.AddDate(0, 1, 0) {
		q := fmt.Sprintf("CREATE TABLE %s PARTITION OF decisions FOR VALUES FROM ('%s') TO ('%s')",
			partition("decisions", m), m.Format(time.RFC3339), m.AddDate(0, 1, 0).Format(time.RFC3339))
		if _, err := conn.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	ds := ledgertest.OldCorpus()
	b := &pgx.Batch{}
	ins := ledgersql.Rebind("INSERT INTO decisions (" + ledgertest.OldColumns + ") VALUES (" + ledgertest.OldPlaceholders + ")")
	for _, d := range ds {
		b.Queue(ins, ledgertest.OldArgs(d, func(t time.Time) any { return t })...)
	}
	if err := conn.SendBatch(ctx, b).Close(); err != nil {
		t.Fatal(err)
	}
	conn.Close(ctx)
	l, err := Open(ctx, url, ledgertest.DefaultRetention, ledgertest.Base)
	if err != nil {
		t.Fatal(err)
	}
	ledgertest.CheckMigrated(t, l, ds)
	l.Close()
	l, err = Open(ctx, url, ledgertest.DefaultRetention, ledgertest.Base)
	if err != nil {
		t.Fatalf("opening a migrated ledger again: %v", err)
	}
	defer l.Close()
	if got, err := l.Transaction(ctx, "AFTER"); err != nil || len(got) != 1 {
		t.Fatalf("a migrated ledger opened again: Transaction(AFTER) = %d decisions, %v; want 1", len(got), err)
	}
}
