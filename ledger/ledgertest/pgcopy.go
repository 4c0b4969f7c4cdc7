package ledgertest

import (
	"context"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dncgate/dncgate/ledger"
	"github.com/dncgate/dncgate/ledger/ledgersql"
)

// PostgresCopy connects to the PostgreSQL ledger at url and returns a
// loader for Seed that writes with COPY into the decisions table, the
// bulk path of PostgreSQL, from a package that cannot reach the
// backend's own. The months' partitions must exist (postgres.Open makes
// its now's month and the two after it), and the per-day rollup is not
// written: drop it and open the ledger again, which counts it from the
// records. close ends the connection.
func PostgresCopy(ctx context.Context, url string) (load func(context.Context, []ledger.Decision) error, close func(), err error) {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return nil, nil, err
	}
	cols := strings.Split(ledgersql.Columns, ", ")
	load = func(ctx context.Context, ds []ledger.Decision) error {
		rows := make([][]any, len(ds))
		for i, d := range ds {
			rows[i] = ledgersql.Args(d, stamps{})
		}
		_, err := conn.CopyFrom(ctx, pgx.Identifier{"decisions"}, cols, pgx.CopyFromRows(rows))
		return err
	}
	return load, func() { conn.Close(context.Background()) }, nil
}

// stamps writes times as the PostgreSQL backend does, as timestamptz;
// PostgresCopy only writes, so Dest is never called.
type stamps struct{}

func (stamps) Value(t time.Time) any    { return t }
func (stamps) Dest() ledgersql.TimeDest { return nil }
