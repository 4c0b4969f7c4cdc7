package embedded

import (
	"context"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/dncgate/dncgate/listdb"
)

const (
	// insertRows is how many entries one INSERT carries: fewer statement
	// executions, well under SQLite's 32766 parameters.
	insertRows = 256
	// deleteBatch bounds one DELETE of an old version's entries, so that
	// other writers (marks, caps) get the file between two batches.
	deleteBatch = 20000
	// bufferEntries bounds the digests an import holds in memory (16 MiB)
	// to sort them before inserting.
	bufferEntries = 1 << 20
)

var (
	_ listdb.Store         = (*Store)(nil)
	_ listdb.ManualCounter = (*Store)(nil)
)

// listSchema holds suppression lists. A version's info is NULL while its
// import runs; entries are keyed by the globally unique version id, so one
// list's versions sit side by side and a switch is one UPDATE.
//
// The tables are created by the first PutList, not by a numbered
// migration: a file whose owner never uses lists keeps its schema version,
// so an older dncgate still opens it. IF NOT EXISTS makes the creation
// safe from several processes; readers take missing tables as no lists.
const listSchema = `CREATE TABLE IF NOT EXISTS lists (
		name    TEXT PRIMARY KEY,
		meta    TEXT NOT NULL,     -- JSON listdb.Meta
		current INTEGER            -- list_versions.id, NULL before the first import
	) WITHOUT ROWID;
	CREATE TABLE IF NOT EXISTS list_versions (
		id   INTEGER PRIMARY KEY AUTOINCREMENT,
		list TEXT NOT NULL,
		info TEXT                  -- JSON listdb.Version once committed
	);
	CREATE INDEX IF NOT EXISTS list_versions_list ON list_versions (list);
	CREATE TABLE IF NOT EXISTS list_entries (
		version INTEGER NOT NULL,
		digest  BLOB NOT NULL,
		PRIMARY KEY (version, digest)
	) WITHOUT ROWID;
	CREATE TABLE IF NOT EXISTS list_manual (
		list    TEXT NOT NULL,
		digest  BLOB NOT NULL,
		present INTEGER NOT NULL,  -- 1 added by hand, 0 removed by hand
		PRIMARY KEY (list, digest)
	) WITHOUT ROWID;` + manualLogSchema

// noListTables reports an error from a file where no list was ever put.
func noListTables(err error) bool {
	return err != nil && strings.Contains(err.Error(), "no such table")
}

// notFound wraps listdb.ErrNotFound with the list's name.
func notFound(name string) error { return fmt.Errorf("%w: %s", listdb.ErrNotFound, name) }

// PutList creates the list or replaces its description.
func (s *Store) PutList(ctx context.Context, m listdb.Meta) error {
	if err := listdb.CheckName(m.Name); err != nil {
		return err
	}
	meta, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("embedded: list %s: %w", m.Name, err)
	}
	if _, err := s.w.ExecContext(ctx, listSchema+";"+changeSchema); err != nil {
		return fmt.Errorf("embedded: creating the list tables: %w", err)
	}
	_, err = s.w.ExecContext(ctx, `INSERT INTO lists (name, meta) VALUES (?, ?)
		ON CONFLICT (name) DO UPDATE SET meta = excluded.meta`, m.Name, meta)
	if err != nil {
		return fmt.Errorf("embedded: put list %s: %w", m.Name, err)
	}
	return nil
}

// List returns the description and current version of one list.
func (s *Store) List(ctx context.Context, name string) (listdb.Meta, listdb.Version, error) {
	row := s.r.QueryRowContext(ctx, `SELECT l.meta, l.current, v.info FROM lists l
		LEFT JOIN list_versions v ON v.id = l.current WHERE l.name = ?`, name)
	info, err := scanInfo(row)
	if errors.Is(err, sql.ErrNoRows) || noListTables(err) {
		return listdb.Meta{}, listdb.Version{}, notFound(name)
	}
	if err != nil {
		return listdb.Meta{}, listdb.Version{}, fmt.Errorf("embedded: list %s: %w", name, err)
	}
	return info.Meta, info.Current, nil
}

// Lists returns every list with its current version, by name.
func (s *Store) Lists(ctx context.Context) ([]listdb.Info, error) {
	if err := s.checkGuard(ctx); err != nil {
		return nil, err
	}
	rows, err := s.r.QueryContext(ctx, `SELECT l.meta, l.current, v.info FROM lists l
		LEFT JOIN list_versions v ON v.id = l.current ORDER BY l.name`)
	if noListTables(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("embedded: lists: %w", err)
	}
	defer rows.Close()
	var out []listdb.Info
	for rows.Next() {
		info, err := scanInfo(rows)
		if err != nil {
			return nil, fmt.Errorf("embedded: lists: %w", err)
		}
		out = append(out, info)
	}
	return out, rows.Err()
}

func scanInfo(row interface{ Scan(...any) error }) (listdb.Info, error) {
	var (
		meta    []byte
		current sql.NullInt64
		ver     sql.NullString
		info    listdb.Info
	)
	if err := row.Scan(&meta, &current, &ver); err != nil {
		return info, err
	}
	if err := json.Unmarshal(meta, &info.Meta); err != nil {
		return info, fmt.Errorf("stored description: %w", err)
	}
	if current.Valid && ver.Valid {
		if err := json.Unmarshal([]byte(ver.String), &info.Current); err != nil {
			return info, fmt.Errorf("stored version %d: %w", current.Int64, err)
		}
		info.Current.ID = strconv.FormatInt(current.Int64, 10)
	}
	return info, nil
}

// DropList removes the list, then its versions batch by batch.
func (s *Store) DropList(ctx context.Context, name string) error {
	res, err := s.w.ExecContext(ctx, `DELETE FROM lists WHERE name = ?`, name)
	if noListTables(err) {
		return notFound(name)
	}
	if err != nil {
		return fmt.Errorf("embedded: drop list %s: %w", name, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return notFound(name)
	}
	if _, err := s.w.ExecContext(ctx, `DELETE FROM list_manual WHERE list = ?`, name); err != nil {
		return fmt.Errorf("embedded: drop list %s: manual entries: %w", name, err)
	}
	if _, err := s.w.ExecContext(ctx, `DELETE FROM list_manual_log WHERE list = ?`, name); err != nil && !noListTables(err) {
		return fmt.Errorf("embedded: drop list %s: manual records: %w", name, err)
	}
	if err := s.sweepVersions(ctx, name, 0, true); err != nil {
		return fmt.Errorf("embedded: drop list %s: %w", name, err)
	}
	return nil
}

// sweepVersions deletes the list's versions that are neither current nor
// among the keep newest other committed ones: those replaced beyond keep,
// and with orphans set those aborted or left by an import that never
// finished (BeginVersion sweeps them before it registers its own; Commit
// does not, since another import may have begun meanwhile). Then it
// removes the index files no version owns. A dropped list has no current
// version and keeps none.
func (s *Store) sweepVersions(ctx context.Context, name string, keep int, orphans bool) error {
	err := deleteVersions(ctx, s.w, s.deleteVersion, `SELECT id FROM list_versions
		WHERE list = ?1 AND id IS NOT (SELECT current FROM lists WHERE name = ?1)
		AND (info IS NULL AND ?3 OR info IS NOT NULL AND id NOT IN (SELECT id FROM list_versions
			WHERE list = ?1 AND info IS NOT NULL AND id IS NOT (SELECT current FROM lists WHERE name = ?1)
			ORDER BY id DESC LIMIT ?2))`, name, keep, orphans)
	if err != nil {
		return err
	}
	if err := s.sweepIndexes(ctx, s.now()); err != nil {
		return fmt.Errorf("sweeping index files: %w", err)
	}
	return nil
}

// deleteVersion deletes a version's entries in batches, each its own
// transaction, then the version itself. It first marks the version as
// not committed, in one step with checking it is not current: a Rollback
// then refuses it rather than switch to a half-deleted set, and one that
// won the race leaves it alone.
func (s *Store) deleteVersion(ctx context.Context, id int64) error {
	res, err := s.w.ExecContext(ctx, `UPDATE list_versions SET info = NULL WHERE id = ?1
		AND NOT EXISTS (SELECT 1 FROM lists WHERE current = ?1)`, id)
	if err != nil {
		return fmt.Errorf("deleting version %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		var current bool
		if err := s.w.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM lists WHERE current = ?)`, id).Scan(&current); err != nil {
			return fmt.Errorf("deleting version %d: %w", id, err)
		}
		if current {
			return nil // rolled back to meanwhile
		}
	}
	for {
		res, err := s.w.ExecContext(ctx, `DELETE FROM list_entries WHERE version = ? AND digest IN
			(SELECT digest FROM list_entries WHERE version = ? LIMIT ?)`, id, id, deleteBatch)
		if err != nil {
			return fmt.Errorf("deleting version %d: %w", id, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			break
		}
	}
	if _, err := s.w.ExecContext(ctx, `DELETE FROM list_versions WHERE id = ?`, id); err != nil {
		return fmt.Errorf("deleting version %d: %w", id, err)
	}
	s.removeIndex(id)
	return nil
}

// qLookup is the reference Lookup, run when the cache cannot answer (a
// file without the change log, an index not built yet). It answers a
// whole Lookup in one statement, hence from one
// snapshot of the file: a switch committed meanwhile is seen entirely or
// not at all, by every probe alike. Its parameter is a JSON array of
// strings, one per digest asked: the digest in hex (hexLen characters,
// or noDigest for a probe without digests, which is asked once for the
// list alone), then the list's name. Each element is one key lookup per
// table, and gives one row: the element's index, whether the list exists,
// its current version, whether that version holds the digest, and the
// manual decision on it if any.
const qLookup = `SELECT q.key, l.name IS NOT NULL, l.current, e.digest IS NOT NULL, m.present
	FROM json_each(?) q
	LEFT JOIN lists l ON l.name = substr(q.value, 33)
	LEFT JOIN list_entries e ON e.version = l.current AND e.digest = unhex(substr(q.value, 1, 32))
	LEFT JOIN list_manual m ON m.list = substr(q.value, 33) AND m.digest = unhex(substr(q.value, 1, 32))`

const (
	// hexLen is a digest in hex, as qLookup cuts its elements.
	hexLen = 2 * listdb.DigestSize
	// noDigest takes a digest's place in a qLookup element; it is not
	// hex, so unhex makes it NULL, which matches nothing.
	noDigest = "--------------------------------"
)

// Contains is a Lookup of one probe.
func (s *Store) Contains(ctx context.Context, name string, digests ...listdb.Digest) ([]bool, error) {
	a, err := s.Lookup(ctx, []listdb.Probe{{List: name, Digests: digests}})
	if err != nil {
		return nil, err
	}
	if a[0].Missing {
		return nil, notFound(name)
	}
	return a[0].Found, nil
}

// asked is one element of qLookup's parameter: which probe, which digest
// of it (-1 for none).
type asked struct{ probe, digest int }

// Lookup answers from the cache of lists and the mapped indexes when it
// can, else through qLookup.
func (s *Store) Lookup(ctx context.Context, probes []listdb.Probe) ([]listdb.Answer, error) {
	out := newAnswers(probes)
	if len(probes) == 0 {
		return out, nil
	}
	if ok, err := s.lists.lookup(ctx, probes, out); ok || err != nil {
		if err != nil {
			return nil, fmt.Errorf("embedded: lookup: %w", err)
		}
		return out, nil
	}
	return s.lookupSQL(ctx, probes, out)
}

// newAnswers returns one answer per probe, all missing and found nowhere,
// the flags of all in one allocation.
func newAnswers(probes []listdb.Probe) []listdb.Answer {
	out := make([]listdb.Answer, len(probes))
	n := 0
	for i := range probes {
		n += len(probes[i].Digests)
	}
	found := make([]bool, n)
	for i := range probes {
		k := len(probes[i].Digests)
		out[i] = listdb.Answer{Found: found[:k:k], Missing: true}
		found = found[k:]
	}
	return out
}

// lookupSQL runs qLookup and fills out, as newAnswers made it.
func (s *Store) lookupSQL(ctx context.Context, probes []listdb.Probe, out []listdb.Answer) ([]listdb.Answer, error) {
	if err := s.checkGuard(ctx); err != nil {
		return nil, err
	}
	stmt, err := s.lazy.Get(ctx, s.r, qLookup)
	if noListTables(err) {
		return out, nil
	}
	if err != nil {
		return nil, fmt.Errorf("embedded: lookup: %w", err)
	}
	param, elems := lookupParam(probes)
	rows, err := stmt.QueryContext(ctx, param)
	if err != nil {
		return nil, fmt.Errorf("embedded: lookup: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			i                int
			exists, imported bool
			current, present sql.NullInt64
		)
		if err := rows.Scan(&i, &exists, &current, &imported, &present); err != nil {
			return nil, fmt.Errorf("embedded: lookup: %w", err)
		}
		if i < 0 || i >= len(elems) {
			return nil, fmt.Errorf("embedded: lookup: row %d of %d", i, len(elems))
		}
		if !exists {
			continue
		}
		at := elems[i]
		a := &out[at.probe]
		a.Missing = false
		if current.Valid {
			a.Version = strconv.FormatInt(current.Int64, 10)
		}
		if at.digest >= 0 {
			a.Found[at.digest] = present.Int64 == 1 || !present.Valid && imported
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("embedded: lookup: %w", err)
	}
	return out, nil
}

// lookupParam is qLookup's parameter for probes, and what each of its
// elements asks.
func lookupParam(probes []listdb.Probe) (string, []asked) {
	var elems []asked
	b := []byte{'['}
	for i, p := range probes {
		// Hex needs no escaping: the element is the digest inside the
		// name's own quotes.
		name, _ := json.Marshal(p.List) // a string always marshals
		elem := func(hexDigest []byte, k int) {
			if len(elems) > 0 {
				b = append(b, ',')
			}
			b = append(append(append(b, '"'), hexDigest...), name[1:]...)
			elems = append(elems, asked{i, k})
		}
		if len(p.Digests) == 0 {
			elem([]byte(noDigest), -1)
		}
		var h [hexLen]byte
		for k := range p.Digests {
			hex.Encode(h[:], p.Digests[k][:])
			elem(h[:], k)
		}
	}
	return string(append(b, ']')), elems
}

// AddEntry records d as on the list, whatever the imports say.
func (s *Store) AddEntry(ctx context.Context, name string, d listdb.Digest) error {
	return s.setEntry(ctx, name, d, 1)
}

// RemoveEntry records d as off the list, whatever the imports say.
func (s *Store) RemoveEntry(ctx context.Context, name string, d listdb.Digest) error {
	return s.setEntry(ctx, name, d, 0)
}

// Manual counts the list's entries added and removed by hand.
func (s *Store) Manual(ctx context.Context, name string) (listdb.Manual, error) {
	var m listdb.Manual
	var exists int
	err := s.r.QueryRowContext(ctx, `SELECT (SELECT COUNT(*) FROM lists WHERE name = ?),
		COALESCE(SUM(present), 0), COALESCE(SUM(1 - present), 0) FROM list_manual WHERE list = ?`, name, name).
		Scan(&exists, &m.Added, &m.Removed)
	if noListTables(err) || (err == nil && exists == 0) {
		return m, notFound(name)
	}
	if err != nil {
		return m, fmt.Errorf("embedded: list %s: manual entries: %w", name, err)
	}
	return m, nil
}

func (s *Store) setEntry(ctx context.Context, name string, d listdb.Digest, present int) error {
	return setEntry(ctx, s.w, name, d, present)
}

type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

func setEntry(ctx context.Context, db execer, name string, d listdb.Digest, present int) error {
	res, err := db.ExecContext(ctx, `INSERT INTO list_manual (list, digest, present)
		SELECT name, ?, ? FROM lists WHERE name = ?
		ON CONFLICT (list, digest) DO UPDATE SET present = excluded.present`, d[:], present, name)
	if noListTables(err) {
		return notFound(name)
	}
	if err != nil {
		return fmt.Errorf("embedded: list %s: manual entry: %w", name, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return notFound(name)
	}
	return nil
}
