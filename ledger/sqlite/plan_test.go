package sqlite

import (
	"context"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dncgate/dncgate/ledger"
	"github.com/dncgate/dncgate/ledger/ledgersql"
	"github.com/dncgate/dncgate/ledger/ledgertest"
)

// TestRangePagesSeekToTheCursor: a later page of a day range, alone or
// with a rep, starts its index search at the cursor, not at the range's
// end; else page k of an export reads k pages and a million-row export
// takes minutes.
func TestRangePagesSeekToTheCursor(t *testing.T) {
	l, err := Open(filepath.Join(t.TempDir(), "ledger.db"), ledgertest.DefaultRetention)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	ctx := context.Background()
	d := ledgertest.Decision("PLAN", 1, -time.Hour, ledger.Allowed)
	if err := l.Record(ctx, []ledger.Decision{d}); err != nil {
		t.Fatal(err)
	}
	day := ledgertest.Base.Truncate(24 * time.Hour)
	cur := &ledger.Cursor{At: d.At, ID: d.ID}
	for _, q := range []ledger.Query{
		{Since: day, Until: day.Add(24 * time.Hour), Limit: 1000},
		{Since: day, Until: day.Add(24 * time.Hour), Rep: d.Rep, Limit: 1000},
	} {
		w := ledgersql.Filters(q, cur, tc)
		sql := "EXPLAIN QUERY PLAN SELECT " + ledgersql.Columns + " FROM " + table(d.At) + w.SQL() + ledgersql.OrderNewest +
			" LIMIT " + strconv.Itoa(q.Limit)
		rows, err := l.r.QueryContext(ctx, sql, w.Args...)
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		if p := strings.Join(plan, "; "); !strings.Contains(p, "(at,id)<(?,?)") {
			t.Errorf("rep %q: the page's plan %q does not seek to the cursor", q.Rep, p)
		}
	}
}
