package ledgersql

import (
	"context"
	"fmt"
	"strings"
)

// Tx is what Migrate needs of a backend's transaction; each backend
// adapts its own in a few lines.
type Tx interface {
	Exec(ctx context.Context, sql string, args ...any) error
	Query(ctx context.Context, sql string, args ...any) (Rows, error)
}

// Rows is sql.Rows or pgx.Rows as Migrate reads them.
type Rows interface {
	Scanner
	Next() bool
	Err() error
	Close()
}

// migrateBatch is how many rows one read of Migrate takes, so that a
// month of millions is moved in flat memory.
const migrateBatch = 5000

// Migrate moves table t of the first layout, where the fields of
// ExtraColumns had columns of their own, to Columns: it adds extra (of
// the backend's blobType), packs each row's fields into it and drops the
// old columns. Run it in one transaction, so a crash leaves the table as
// it was. rebind turns '?' into the backend's placeholders.
func Migrate(ctx context.Context, tx Tx, t, blobType string, tc TimeCodec, rebind func(string) string) (int, error) {
	if err := tx.Exec(ctx, "ALTER TABLE "+t+" ADD COLUMN extra "+blobType); err != nil {
		return 0, fmt.Errorf("migrate %s: %w", t, err)
	}
	sel := "SELECT at, id, " + strings.Join(ExtraColumns, ", ") + " FROM " + t
	upd := rebind("UPDATE " + t + " SET extra = ? WHERE at = ? AND id = ?")
	next := rebind(sel + " WHERE (at, id) > (?, ?) ORDER BY at, id LIMIT " + fmt.Sprint(migrateBatch))
	q, args, n := sel+" ORDER BY at, id LIMIT "+fmt.Sprint(migrateBatch), []any(nil), 0
	for {
		batch, err := oldRows(ctx, tx, q, tc, args...)
		if err != nil {
			return n, fmt.Errorf("migrate %s: %w", t, err)
		}
		for _, r := range batch {
			if err := tx.Exec(ctx, upd, r.extra, r.at, r.id); err != nil {
				return n, fmt.Errorf("migrate %s: %w", t, err)
			}
		}
		n += len(batch)
		if len(batch) < migrateBatch {
			break
		}
		last := batch[len(batch)-1]
		q, args = next, []any{last.at, last.id}
	}
	for _, c := range ExtraColumns {
		if err := tx.Exec(ctx, "ALTER TABLE "+t+" DROP COLUMN "+c); err != nil {
			return n, fmt.Errorf("migrate %s: %w", t, err)
		}
	}
	return n, nil
}

type oldRow struct {
	at    any
	id    string
	extra []byte
}

func oldRows(ctx context.Context, tx Tx, q string, tc TimeCodec, args ...any) ([]oldRow, error) {
	rows, err := tx.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []oldRow
	vals := make([]string, len(ExtraColumns))
	at := tc.Dest()
	dest := []any{at.Ptr(), new(string)}
	for i := range vals {
		dest = append(dest, &vals[i])
	}
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return nil, err
		}
		out = append(out, oldRow{at: tc.Value(at.Time()), id: *dest[1].(*string), extra: PackExtra(vals...)})
	}
	return out, rows.Err()
}
