package embedded

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/dncgate/dncgate/listdb"
)

// qHistory reads a list's committed versions with its current one; one
// row with a NULL id for a list without any.
const qHistory = `SELECT l.current, v.id, v.info FROM lists l
	LEFT JOIN list_versions v ON v.list = l.name AND v.info IS NOT NULL
	WHERE l.name = ?`

// History returns the list's committed versions: the current one and
// those kept, which are all the sweeps leave.
func (s *Store) History(ctx context.Context, name string) ([]listdb.VersionInfo, error) {
	h, err := history(ctx, s.r, name)
	if err != nil {
		return nil, fmt.Errorf("embedded: list %s: history: %w", name, err)
	}
	return h, nil
}

type rowsQuerier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

func history(ctx context.Context, db rowsQuerier, name string) ([]listdb.VersionInfo, error) {
	rows, err := db.QueryContext(ctx, qHistory, name)
	if noListTables(err) {
		return nil, notFound(name)
	}
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	exists := false
	var out []listdb.VersionInfo
	for rows.Next() {
		var (
			current, id sql.NullInt64
			info        sql.NullString
		)
		if err := rows.Scan(&current, &id, &info); err != nil {
			return nil, err
		}
		exists = true
		if !id.Valid {
			continue
		}
		var v listdb.VersionInfo
		if err := json.Unmarshal([]byte(info.String), &v.Version); err != nil {
			return nil, fmt.Errorf("stored version %d: %w", id.Int64, err)
		}
		v.ID = strconv.FormatInt(id.Int64, 10)
		v.InForce = current.Valid && current.Int64 == id.Int64
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if !exists {
		return nil, notFound(name)
	}
	listdb.SortHistory(out)
	return out, nil
}

// Rollback switches the list to a kept version in one transaction, as an
// import's Commit does: the change log records the switch, so lookups
// answer from the kept version's index (mapped again, or rebuilt when its
// file went) or through SQL, never from a mix. A version being deleted is
// no longer committed, hence not offered.
func (s *Store) Rollback(ctx context.Context, name, version, by string, now time.Time) (listdb.Switch, error) {
	sw, err := s.rollback(ctx, name, version, by, now)
	if err != nil {
		return sw, fmt.Errorf("embedded: list %s: rollback: %w", name, err)
	}
	return sw, nil
}

func (s *Store) rollback(ctx context.Context, name, version, by string, now time.Time) (listdb.Switch, error) {
	sw := listdb.Switch{List: name}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return sw, err
	}
	defer tx.Rollback()
	h, err := history(ctx, tx, name)
	if err != nil {
		return sw, err
	}
	if sw.From, sw.To, err = listdb.RollbackTarget(name, h, version); err != nil {
		return sw, err
	}
	sw.To.RestoredAt, sw.To.RestoredBy = now.UTC(), by
	id, err := strconv.ParseInt(sw.To.ID, 10, 64)
	if err != nil {
		return sw, err
	}
	info, err := json.Marshal(versionInfo(sw.To))
	if err != nil {
		return sw, err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE list_versions SET info = ? WHERE id = ?`, info, id); err != nil {
		return sw, err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE lists SET current = ? WHERE name = ?`, id, name); err != nil {
		return sw, err
	}
	return sw, tx.Commit()
}

// manualLogSchema records the decisions by hand. It is created with the
// other list tables, and again by the first ChangeEntry on a file whose
// lists predate it.
const manualLogSchema = `;
	CREATE TABLE IF NOT EXISTS list_manual_log (
		seq    INTEGER PRIMARY KEY AUTOINCREMENT,
		list   TEXT NOT NULL,
		change TEXT NOT NULL       -- JSON listdb.ManualChange
	);
	CREATE INDEX IF NOT EXISTS list_manual_log_list ON list_manual_log (list, seq)`

// ChangeEntry records the decision on d and its record in one
// transaction.
func (s *Store) ChangeEntry(ctx context.Context, name string, d listdb.Digest, c listdb.ManualChange) error {
	c.At = c.At.UTC()
	rec, err := json.Marshal(c)
	if err != nil {
		return fmt.Errorf("embedded: list %s: manual record: %w", name, err)
	}
	present := 0
	if c.Added {
		present = 1
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("embedded: list %s: manual entry: %w", name, err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, manualLogSchema[1:]); err != nil {
		return fmt.Errorf("embedded: list %s: manual record: %w", name, err)
	}
	if err := setEntry(ctx, tx, name, d, present); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO list_manual_log (list, change) VALUES (?, ?)`, name, rec); err != nil {
		return fmt.Errorf("embedded: list %s: manual record: %w", name, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("embedded: list %s: manual entry: %w", name, err)
	}
	return nil
}

// ManualChanges reads the list's records, newest first.
func (s *Store) ManualChanges(ctx context.Context, name string, limit int) ([]listdb.ManualChange, error) {
	if _, _, err := s.List(ctx, name); err != nil {
		return nil, err
	}
	if limit <= 0 {
		limit = -1 // SQLite: no limit
	}
	rows, err := s.r.QueryContext(ctx, `SELECT change FROM list_manual_log WHERE list = ? ORDER BY seq DESC LIMIT ?`, name, limit)
	if noListTables(err) {
		return nil, nil // no decision recorded on this file yet
	}
	if err != nil {
		return nil, fmt.Errorf("embedded: list %s: manual records: %w", name, err)
	}
	defer rows.Close()
	var out []listdb.ManualChange
	for rows.Next() {
		var rec []byte
		if err := rows.Scan(&rec); err != nil {
			return nil, fmt.Errorf("embedded: list %s: manual records: %w", name, err)
		}
		var c listdb.ManualChange
		if err := json.Unmarshal(rec, &c); err != nil {
			return nil, fmt.Errorf("embedded: list %s: manual record: %w", name, err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("embedded: list %s: manual records: %w", name, err)
	}
	return out, nil
}
