package postgres

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/dncgate/dncgate/internal/testpg"
	"github.com/dncgate/dncgate/ledger"
	"github.com/dncgate/dncgate/ledger/ledgertest"
)

// TestOutcomeFindsItsRecordByReference: with many records of one
// recipient in a partition without statistics, an outcome's update
// searches the reference's index only, never the digest's (whose range
// for that recipient grows with every record).
func TestOutcomeFindsItsRecordByReference(t *testing.T) {
	srv := testpg.Start(t)
	ctx := context.Background()
	l, err := Open(ctx, srv.NewDatabase(t), ledgertest.DefaultRetention, ledgertest.Base)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var ds []ledger.Decision
	for i := range 3000 {
		ds = append(ds, ledgertest.Decision(fmt.Sprintf("R%06d", i), 1, time.Duration(i)*time.Second, ledger.Allowed))
	}
	if err := l.Record(ctx, ds); err != nil {
		t.Fatal(err)
	}
	d := ds[10]
	rows, err := l.pool.Query(ctx, "EXPLAIN "+setOutcome, "sent", "", nil, d.Ref, d.RcptDigest[:])
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, line)
	}
	all := strings.Join(plan, "\n")
	if strings.Contains(all, "rcpt_digest_at_id_idx") || !strings.Contains(all, "_ref_idx") {
		t.Fatalf("the outcome's update reads the digest's index, or not the reference's:\n%s", all)
	}
}
