package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/dncgate/dncgate/ledger/ledgersql"
)

// migrate moves the month tables of the first layout (every field in a
// column of its own) to the packed one, each in one transaction: a
// ledger file from an earlier dncgate stays readable.
func (l *Ledger) migrate(ctx context.Context) error {
	tabs, err := l.tables(ctx, l.w)
	if err != nil {
		return err
	}
	for _, t := range tabs {
		if err := l.migrateTable(ctx, t); err != nil {
			return err
		}
	}
	return nil
}

// migrateTable looks for the old layout inside the transaction that
// moves it: another process opening the file at the same time waits for
// the lock and then finds the table moved.

func (l *Ledger) migrateTable(ctx context.Context, t string) error {
	tx, err := l.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var old int
	if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM pragma_table_info(?) WHERE name = 'sender'", t).Scan(&old); err != nil || old == 0 {
		return err
	}
	if _, err := ledgersql.Migrate(ctx, sqlTx{tx}, t, "BLOB", tc, func(s string) string { return s }); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("migrate %s: %w", t, err)
	}
	return nil
}

// sqlTx is a database/sql transaction as ledgersql.Migrate uses it.
type sqlTx struct{ tx *sql.Tx }

func (x sqlTx) Exec(ctx context.Context, q string, args ...any) error {
	_, err := x.tx.ExecContext(ctx, q, args...)
	return err
}

func (x sqlTx) Query(ctx context.Context, q string, args ...any) (ledgersql.Rows, error) {
	rows, err := x.tx.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	return sqlRows{rows}, nil
}

type sqlRows struct{ *sql.Rows }

func (r sqlRows) Close() { r.Rows.Close() }
