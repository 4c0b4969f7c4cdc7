package embedded

import (
	"context"
	"database/sql"
)

// deleteVersions runs query, which selects version ids, and deletes each
// with del. The ids are read to the end first: SQLite allows no write
// through the one writing connection while its rows are open.
func deleteVersions(ctx context.Context, db *sql.DB, del func(context.Context, int64) error, query string, args ...any) error {
	rows, err := db.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return err
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, id := range ids {
		if err := del(ctx, id); err != nil {
			return err
		}
	}
	return nil
}
