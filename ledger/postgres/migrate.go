package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/dncgate/dncgate/ledger/ledgersql"
)

// migrate moves a decisions table of the first layout (every field in a
// column of its own) to the packed one, inside setup's transaction and
// under its lock: every instance opening the database at once waits,
// and the first one moves it. Instances of an earlier dncgate cannot
// write to it afterwards; upgrade them together.
func migrate(ctx context.Context, tx pgx.Tx) error {
	var old int
	err := tx.QueryRow(ctx, `SELECT count(*) FROM information_schema.columns
		WHERE table_schema = current_schema() AND table_name = 'decisions' AND column_name = 'sender'`).Scan(&old)
	if err != nil || old == 0 {
		return err
	}
	if _, err := ledgersql.Migrate(ctx, pgTx{tx}, "decisions", "bytea", tc, ledgersql.Rebind); err != nil {
		return err
	}
	_, err = tx.Exec(ctx, "ALTER TABLE decisions ALTER COLUMN extra SET NOT NULL")
	return err
}

// pgTx is a pgx transaction as ledgersql.Migrate uses it.
type pgTx struct{ tx pgx.Tx }

func (x pgTx) Exec(ctx context.Context, q string, args ...any) error {
	_, err := x.tx.Exec(ctx, q, args...)
	return err
}

func (x pgTx) Query(ctx context.Context, q string, args ...any) (ledgersql.Rows, error) {
	rows, err := x.tx.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	return rows, nil
}
