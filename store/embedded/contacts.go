package embedded

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/dncgate/dncgate/contactdb"
	"github.com/dncgate/dncgate/listdb"
)

// contactSchema holds the CRM contacts. The head's single row names the
// current version; a version's info is NULL while its import runs, ”
// once a sweep has condemned it (so that it can no longer commit), and
// JSON once committed. Entries are keyed by version and e-mail digest, so
// two versions sit side by side and a switch is one UPDATE.
//
// Like the list tables, these are created by the first import, not by a
// numbered migration: a file that never held contacts keeps its schema
// version and still opens in an older dncgate.
const contactSchema = `CREATE TABLE IF NOT EXISTS contact_head (
		one     INTEGER PRIMARY KEY CHECK (one = 1),
		current INTEGER            -- contact_versions.id, NULL before the first import
	);
	INSERT OR IGNORE INTO contact_head (one, current) VALUES (1, NULL);
	CREATE TABLE IF NOT EXISTS contact_versions (
		id   INTEGER PRIMARY KEY AUTOINCREMENT,
		info TEXT                  -- see above
	);
	CREATE TABLE IF NOT EXISTS contact_entries (
		version INTEGER NOT NULL,
		email   BLOB NOT NULL,     -- the keyed digest of the e-mail
		rec     BLOB NOT NULL,     -- contactdb.Encode
		PRIMARY KEY (version, email)
	) WITHOUT ROWID;`

const (
	// contactDeleteBatch bounds one DELETE of a version's entries, so that
	// other writers get the file between two batches.
	contactDeleteBatch = 20000
)

// contactStore is the embedded store's contacts.
type contactStore struct{ s *Store }

// Contacts returns the store's CRM contacts. It caches nothing: every
// call reads the file.
func (s *Store) Contacts() contactdb.Store { return contactStore{s} }

// noContactTables reports an error from a file where nothing was ever
// imported.
func noContactTables(err error) bool {
	return err != nil && strings.Contains(err.Error(), "no such table")
}

// qContact reads one record of the current version: one statement, hence
// one snapshot of the file, so a switch committed meanwhile is seen
// entirely or not at all. Contact runs it through a rawReader: it is on
// every recipient check's path.
const qContact = `SELECT e.rec FROM contact_head h JOIN contact_entries e
	ON e.version = h.current AND e.email = ?`

func (c contactStore) Contact(ctx context.Context, email listdb.Digest) (contactdb.Contact, bool, error) {
	var ct contactdb.Contact
	found, err := c.s.contactReads.row(ctx, []driver.NamedValue{{Ordinal: 1, Value: email[:]}}, func(cols []driver.Value) error {
		rec, ok := cols[0].([]byte)
		if !ok {
			return fmt.Errorf("record of type %T", cols[0])
		}
		var err error
		ct, err = contactdb.Decode(rec)
		return err
	})
	if noContactTables(err) {
		return contactdb.Contact{}, false, nil
	}
	if err != nil {
		return contactdb.Contact{}, false, fmt.Errorf("embedded: contact: %w", err)
	}
	return ct, found, nil
}

// Current reads the head and the version it names.
func (c contactStore) Current(ctx context.Context) (contactdb.Version, error) {
	var (
		id   int64
		info string
		v    contactdb.Version
	)
	err := c.s.r.QueryRowContext(ctx, `SELECT v.id, v.info FROM contact_head h
		JOIN contact_versions v ON v.id = h.current`).Scan(&id, &info)
	if errors.Is(err, sql.ErrNoRows) || noContactTables(err) {
		return v, nil
	}
	if err != nil {
		return v, fmt.Errorf("embedded: contacts: current version: %w", err)
	}
	if err := json.Unmarshal([]byte(info), &v); err != nil {
		return v, fmt.Errorf("embedded: contacts: stored version %d: %w", id, err)
	}
	v.ID = strconv.FormatInt(id, 10)
	return v, nil
}

// Forget deletes the record from the current version only: versions
// being imported are the files' business (see contactdb.Store).
func (c contactStore) Forget(ctx context.Context, email listdb.Digest) error {
	_, err := c.s.w.ExecContext(ctx, `DELETE FROM contact_entries
		WHERE version = (SELECT current FROM contact_head) AND email = ?`, email[:])
	if err != nil && !noContactTables(err) {
		return fmt.Errorf("embedded: contacts: forget: %w", err)
	}
	return nil
}

// BeginImport creates the tables when new, sweeps every version but the
// current one, and registers a new one.
func (c contactStore) BeginImport(ctx context.Context, _ int64) (contactdb.Writer, error) {
	if _, err := c.s.w.ExecContext(ctx, contactSchema); err != nil {
		return nil, fmt.Errorf("embedded: creating the contact tables: %w", err)
	}
	if err := c.sweep(ctx); err != nil {
		return nil, fmt.Errorf("embedded: contacts: sweeping old versions: %w", err)
	}
	res, err := c.s.w.ExecContext(ctx, `INSERT INTO contact_versions (info) VALUES (NULL)`)
	if err != nil {
		return nil, fmt.Errorf("embedded: contacts: new version: %w", err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return nil, fmt.Errorf("embedded: contacts: new version: %w", err)
	}
	return &contactWriter{c: c, id: id}, nil
}

// sweep condemns every version but the current one in one statement, so
// that an import still running can no longer commit, then deletes them.
func (c contactStore) sweep(ctx context.Context) error {
	_, err := c.s.w.ExecContext(ctx, `UPDATE contact_versions SET info = ''
		WHERE id IS NOT (SELECT current FROM contact_head)`)
	if err != nil {
		return err
	}
	return deleteVersions(ctx, c.s.w, c.deleteVersion, `SELECT id FROM contact_versions WHERE info = ''`)
}

// deleteVersion deletes a version's entries in batches, each its own
// transaction, then the version: a sweep cut short leaves the version
// condemned, and the next sweep finishes it.
func (c contactStore) deleteVersion(ctx context.Context, id int64) error {
	for {
		res, err := c.s.w.ExecContext(ctx, `DELETE FROM contact_entries WHERE version = ? AND email IN
			(SELECT email FROM contact_entries WHERE version = ? LIMIT ?)`, id, id, contactDeleteBatch)
		if err != nil {
			return fmt.Errorf("deleting version %d: %w", id, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			break
		}
	}
	if _, err := c.s.w.ExecContext(ctx, `DELETE FROM contact_versions WHERE id = ?`, id); err != nil {
		return fmt.Errorf("deleting version %d: %w", id, err)
	}
	return nil
}
