package embedded

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/dncgate/dncgate/listdb"
)

// BeginVersion sweeps the list's stale versions and registers a new one.
func (s *Store) BeginVersion(ctx context.Context, name string, _ int64) (listdb.Writer, error) {
	m, _, err := s.List(ctx, name)
	if err != nil {
		return nil, err
	}
	if err := s.sweepVersions(ctx, name, m.Keep(), true); err != nil {
		return nil, fmt.Errorf("embedded: list %s: sweeping old versions: %w", name, err)
	}
	res, err := s.w.ExecContext(ctx, `INSERT INTO list_versions (list) VALUES (?)`, name)
	if err != nil {
		return nil, fmt.Errorf("embedded: list %s: new version: %w", name, err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return nil, fmt.Errorf("embedded: list %s: new version: %w", name, err)
	}
	return &listWriter{s: s, list: name, id: id}, nil
}

// listWriter fills one version of one list.
type listWriter struct {
	s       *Store
	list    string
	id      int64
	entries int64
	buf     []listdb.Digest // not yet inserted, up to bufferEntries
	done    bool
}

var errWriterDone = errors.New("embedded: import already committed or aborted")

// Add buffers the batch; a full buffer is sorted and inserted in one
// transaction. In key order the B-tree grows at its edge instead of
// splitting pages all over, and the larger the sorted run the closer an
// import of random digests comes to that.
func (w *listWriter) Add(ctx context.Context, digests []listdb.Digest) error {
	if w.done {
		return errWriterDone
	}
	return listdb.Buffer(&w.buf, digests, bufferEntries, func() error { return w.flush(ctx) })
}

// flush sorts and inserts the buffer.
func (w *listWriter) flush(ctx context.Context) error {
	slices.SortFunc(w.buf, func(a, b listdb.Digest) int { return bytes.Compare(a[:], b[:]) })
	n, err := w.insert(ctx, w.buf)
	if err != nil {
		return fmt.Errorf("embedded: list %s: version %d: %w", w.list, w.id, err)
	}
	w.entries += n
	w.buf = w.buf[:0]
	return nil
}

// insert writes sorted digests and returns how many were new.
func (w *listWriter) insert(ctx context.Context, sorted []listdb.Digest) (int64, error) {
	tx, err := w.s.w.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	full, err := tx.PrepareContext(ctx, insertSQL(insertRows))
	if err != nil {
		return 0, err
	}
	defer full.Close()
	var added int64
	args := make([]any, 0, 2*insertRows)
	for len(sorted) > 0 {
		chunk := sorted[:min(insertRows, len(sorted))]
		sorted = sorted[len(chunk):]
		args = args[:0]
		for i := range chunk {
			args = append(args, w.id, chunk[i][:])
		}
		var res sql.Result
		if len(chunk) == insertRows {
			res, err = full.ExecContext(ctx, args...)
		} else {
			res, err = tx.ExecContext(ctx, insertSQL(len(chunk)), args...)
		}
		if err != nil {
			return 0, err
		}
		n, _ := res.RowsAffected()
		added += n
	}
	return added, tx.Commit()
}

func insertSQL(rows int) string {
	return "INSERT OR IGNORE INTO list_entries (version, digest) VALUES " +
		strings.Repeat("(?, ?), ", rows-1) + "(?, ?)"
}

// Commit switches the list to this version in one transaction, starts
// building its index file in the background, then deletes the replaced
// versions beyond those the list keeps. The import does not wait for the index: the version is in
// force and read through SQL until the file is ready, and a process that
// closes first (the CLI) leaves the build to the next store that looks
// the list up (the gateway).
func (w *listWriter) Commit(ctx context.Context, v listdb.Version) (listdb.Version, error) {
	if w.done {
		return v, errWriterDone
	}
	if err := w.flush(ctx); err != nil {
		return v, err
	}
	v.ID = strconv.FormatInt(w.id, 10)
	v.Entries = w.entries
	keep, err := w.switchTo(ctx, v)
	if errors.Is(err, listdb.ErrSuperseded) || errors.Is(err, listdb.ErrNotFound) {
		// Whoever swept this version may have done so before our last
		// batches landed: delete them too.
		w.done = true
		_ = w.s.deleteVersion(ctx, w.id)
	}
	if err != nil {
		return v, fmt.Errorf("embedded: list %s: committing version %d: %w", w.list, w.id, err)
	}
	w.done = true
	w.s.lists.startLoad(w.id)
	if err := w.s.sweepVersions(ctx, w.list, keep, false); err != nil {
		return v, fmt.Errorf("embedded: list %s: committed, but deleting old versions: %w (the next import retries)", w.list, err)
	}
	return v, nil
}

// switchTo records v and makes it current; it returns how many replaced
// versions the list keeps.
func (w *listWriter) switchTo(ctx context.Context, v listdb.Version) (keep int, err error) {
	info, err := json.Marshal(versionInfo(v))
	if err != nil {
		return 0, err
	}
	tx, err := w.s.w.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	var meta []byte
	if err := tx.QueryRowContext(ctx, `SELECT meta FROM lists WHERE name = ?`, w.list).Scan(&meta); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return 0, listdb.ErrNotFound
		}
		return 0, err
	}
	var m listdb.Meta
	if err := json.Unmarshal(meta, &m); err != nil {
		return 0, fmt.Errorf("stored description: %w", err)
	}
	res, err := tx.ExecContext(ctx, `UPDATE list_versions SET info = ? WHERE id = ? AND info IS NULL`, info, w.id)
	if err != nil {
		return 0, err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return 0, listdb.ErrSuperseded
	}
	if _, err := tx.ExecContext(ctx, `UPDATE lists SET current = ? WHERE name = ?`, w.id, w.list); err != nil {
		return 0, err
	}
	return m.Keep(), tx.Commit()
}

// versionInfo is v as stored: the id is the row's own.
func versionInfo(v listdb.Version) listdb.Version {
	v.ID = ""
	return v
}

// Abort deletes what this import wrote.
func (w *listWriter) Abort(ctx context.Context) error {
	if w.done {
		return errWriterDone
	}
	w.done = true
	w.buf = nil
	if err := w.s.deleteVersion(ctx, w.id); err != nil {
		return fmt.Errorf("embedded: list %s: aborting: %w", w.list, err)
	}
	return nil
}
