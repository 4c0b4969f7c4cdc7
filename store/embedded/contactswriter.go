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

	"github.com/dncgate/dncgate/contactdb"
	"github.com/dncgate/dncgate/listdb"
)

const (
	// contactInsertRows is how many records one INSERT carries, three
	// parameters each: well under SQLite's 32766.
	contactInsertRows = 256
	// contactBuffer bounds the records an import holds to sort them
	// before inserting (about 20 MiB with a few phones each).
	contactBuffer = 1 << 18
)

var errContactWriterDone = errors.New("embedded: contacts import already committed or aborted")

// pendingContact is one record as it will be stored.
type pendingContact struct {
	email listdb.Digest
	rec   []byte
}

// contactWriter fills one version of the contacts.
type contactWriter struct {
	c     contactStore
	id    int64
	added int64 // records given to Add
	buf   []pendingContact
	done  bool
}

// Add encodes the batch into the buffer; a full buffer is sorted and
// inserted in one transaction (see listWriter.Add for why sorted).
func (w *contactWriter) Add(ctx context.Context, recs []contactdb.Record) error {
	if w.done {
		return errContactWriterDone
	}
	for i := range recs {
		rec, err := contactdb.Encode(recs[i].Contact)
		if err != nil {
			return fmt.Errorf("embedded: contacts: record %d of the batch: %w", i, err)
		}
		w.buf = append(w.buf, pendingContact{recs[i].Email, rec})
		w.added++
		if len(w.buf) == contactBuffer {
			if err := w.flush(ctx); err != nil {
				return err
			}
		}
	}
	return nil
}

// flush sorts the buffer, keeping equal e-mails in the order given so
// that the later record, inserted last, replaces the earlier.
func (w *contactWriter) flush(ctx context.Context) error {
	slices.SortStableFunc(w.buf, func(a, b pendingContact) int { return bytes.Compare(a.email[:], b.email[:]) })
	if err := w.insert(ctx, w.buf); err != nil {
		return fmt.Errorf("embedded: contacts: version %d: %w", w.id, err)
	}
	clear(w.buf)
	w.buf = w.buf[:0]
	return nil
}

func (w *contactWriter) insert(ctx context.Context, sorted []pendingContact) error {
	tx, err := w.c.s.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	full, err := tx.PrepareContext(ctx, contactInsertSQL(contactInsertRows))
	if err != nil {
		return err
	}
	defer full.Close()
	args := make([]any, 0, 3*contactInsertRows)
	for len(sorted) > 0 {
		chunk := sorted[:min(contactInsertRows, len(sorted))]
		sorted = sorted[len(chunk):]
		args = args[:0]
		for i := range chunk {
			args = append(args, w.id, chunk[i].email[:], chunk[i].rec)
		}
		if len(chunk) == contactInsertRows {
			_, err = full.ExecContext(ctx, args...)
		} else {
			_, err = tx.ExecContext(ctx, contactInsertSQL(len(chunk)), args...)
		}
		if err != nil {
			return err
		}
	}
	return tx.Commit()
}

func contactInsertSQL(rows int) string {
	return "INSERT OR REPLACE INTO contact_entries (version, email, rec) VALUES " +
		strings.Repeat("(?, ?, ?), ", rows-1) + "(?, ?, ?)"
}

// Commit counts the version's entries, switches to it in one transaction,
// then deletes the version it replaced.
func (w *contactWriter) Commit(ctx context.Context, v contactdb.Version) (contactdb.Version, error) {
	if w.done {
		return v, errContactWriterDone
	}
	if err := w.flush(ctx); err != nil {
		return v, err
	}
	w.done = true
	err := w.c.s.w.QueryRowContext(ctx, `SELECT count(*) FROM contact_entries WHERE version = ?`, w.id).Scan(&v.Entries)
	if err != nil {
		return v, fmt.Errorf("embedded: contacts: counting version %d: %w", w.id, err)
	}
	v.ID, v.Duplicates = strconv.FormatInt(w.id, 10), w.added-v.Entries
	old, err := w.switchTo(ctx, v)
	if errors.Is(err, contactdb.ErrSuperseded) {
		// The sweep that condemned this version may have run before our
		// last batches landed: delete them too.
		_ = w.c.deleteVersion(ctx, w.id)
	}
	if err != nil {
		return v, fmt.Errorf("embedded: contacts: committing version %d: %w", w.id, err)
	}
	if old.Valid {
		if err := w.c.deleteVersion(ctx, old.Int64); err != nil {
			return v, fmt.Errorf("embedded: contacts: committed, but %w (the next import retries)", err)
		}
	}
	return v, nil
}

// switchTo records v and makes it current; it returns the version replaced.
func (w *contactWriter) switchTo(ctx context.Context, v contactdb.Version) (sql.NullInt64, error) {
	var old sql.NullInt64
	stored := v
	stored.ID = "" // the row's own id
	info, err := json.Marshal(stored)
	if err != nil {
		return old, err
	}
	tx, err := w.c.s.w.BeginTx(ctx, nil)
	if err != nil {
		return old, err
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `UPDATE contact_versions SET info = ? WHERE id = ? AND info IS NULL`, info, w.id)
	if err != nil {
		return old, err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return old, contactdb.ErrSuperseded
	}
	if err := tx.QueryRowContext(ctx, `SELECT current FROM contact_head`).Scan(&old); err != nil {
		return old, err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE contact_head SET current = ?`, w.id); err != nil {
		return old, err
	}
	return old, tx.Commit()
}

// Abort deletes what this import wrote.
func (w *contactWriter) Abort(ctx context.Context) error {
	if w.done {
		return errContactWriterDone
	}
	w.done = true
	w.buf = nil
	if err := w.c.deleteVersion(ctx, w.id); err != nil {
		return fmt.Errorf("embedded: contacts: aborting: %w", err)
	}
	return nil
}
