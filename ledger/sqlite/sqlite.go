// Package sqlite is the send ledger on one machine: a SQLite file of its
// own beside the embedded store, with one table of decisions per month so
// retention drops whole months, and the audit trail in one table.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dncgate/dncgate/ledger"
	"github.com/dncgate/dncgate/ledger/ledgersql"

	"github.com/dncgate/dncgate/internal/stmtcache"
	_ "modernc.org/sqlite" // registers the "sqlite" driver, pure Go
)

const (
	busyTimeout   = 5 * time.Second
	readConns     = 4
	readMmapBytes = 1 << 30
	writeCacheKiB = 64 << 10 // 64 MiB
)

// Ledger is the SQLite ledger. It is safe for concurrent use, also by
// several processes opening the same file (the server writes, the CLI
// reads and erases).
type Ledger struct {
	w, r *sql.DB
	ret  ledger.Retention
	set  ledger.Settings
	// wr is the one writer of decisions and outcomes (see writeBatch).
	wr    *ledger.Batcher[write]
	stmts stmtcache.Cache // the writer's statements, prepared once on the pool

	commits, rows atomic.Int64 // see Stats

	// outq holds the outcomes waiting to share the next commit of
	// records (see SetOutcome); outTimer commits them alone when none
	// comes.
	outMu     sync.Mutex
	outq      []queuedOutcome
	outTimer  *time.Timer
	outClosed bool

	mu   sync.Mutex
	made map[string]bool // month tables this process knows exist
	tabs []string        // every month table, newest first; nil: to be listed
}

var _ ledger.Ledger = (*Ledger)(nil)

// Open opens or creates the ledger file at path.
func Open(path string, ret ledger.Retention, opts ...ledger.Option) (*Ledger, error) {
	if strings.ContainsAny(path, "?#") {
		return nil, fmt.Errorf("ledger: %q: '?' and '#' are not allowed in the path", path)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("ledger: %w", err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("ledger: %w", err)
	}
	f.Close()
	l := &Ledger{ret: ret, made: map[string]bool{}, set: ledger.Configure(opts)}
	if err := l.open(path); err != nil {
		l.Close()
		return nil, fmt.Errorf("ledger: %s: %w", path, err)
	}
	return l, nil
}

func (l *Ledger) open(path string) error {
	var err error
	if l.w, err = openPool(path, false, 1); err != nil {
		return err
	}
	if _, err = l.w.Exec(schema); err != nil {
		return err
	}
	if err = l.migrate(context.Background()); err != nil {
		return err
	}
	if err = l.ensureRollup(context.Background()); err != nil {
		return err
	}
	if l.r, err = openPool(path, true, readConns); err != nil {
		return err
	}
	l.wr = ledger.StartBatcher(l.writeBatch, l.set.CommitDelay)
	return nil
}

// openPool opens n connections: WAL so readers never wait for the writer,
// synchronous=FULL because a record must survive a power loss before its
// copy leaves (group commit pays for the fsync once per batch). The
// writer's page cache holds the digest index's hot pages, where inserts
// land at random; readers map the file, as the embedded store's do.
func openPool(path string, readOnly bool, n int) (*sql.DB, error) {
	dsn := fmt.Sprintf("%s?_busy_timeout=%d&_journal_mode=WAL&_synchronous=FULL&_txlock=immediate",
		path, busyTimeout.Milliseconds())
	if readOnly {
		dsn += fmt.Sprintf("&_query_only=1&_pragma=mmap_size(%d)", readMmapBytes)
	} else {
		dsn += fmt.Sprintf("&_pragma=cache_size(%d)", -writeCacheKiB)
	}
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(n)
	db.SetMaxIdleConns(n)
	db.SetConnMaxLifetime(0)
	return db, nil
}

const schema = `
CREATE TABLE IF NOT EXISTS audit (
	id TEXT PRIMARY KEY, at INTEGER NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL,
	object TEXT NOT NULL, digest BLOB, source TEXT NOT NULL, reason TEXT NOT NULL, details TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS audit_at ON audit(at, id);
CREATE INDEX IF NOT EXISTS audit_digest ON audit(digest, at) WHERE digest IS NOT NULL;`

// table is the name of the month table holding t: d_YYYYMM.
func table(t time.Time) string { return ledger.Month(t).Format("d_200601") }

// monthOf is the first instant of a table's month.
func monthOf(name string) (time.Time, bool) {
	t, err := time.Parse("d_200601", name)
	return t, err == nil
}

// tableDDL makes a month table. It is clustered on (at, id): records
// arrive in time order, so inserts append to the table's B-tree instead of
// landing at random in an index of ids, and pages read newest first are
// the table itself.
func tableDDL(t string) string {
	return `CREATE TABLE IF NOT EXISTS ` + t + ` (
	id TEXT NOT NULL, at INTEGER NOT NULL, ref TEXT NOT NULL, rep TEXT NOT NULL, rcpt_masked TEXT NOT NULL,
	rcpt_digest BLOB, domain TEXT NOT NULL, verdict TEXT NOT NULL, reason TEXT NOT NULL,
	match_list TEXT NOT NULL, subject TEXT NOT NULL, outcome TEXT NOT NULL, reply TEXT NOT NULL,
	outcome_at INTEGER, extra BLOB NOT NULL,
	PRIMARY KEY (at, id)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS ` + t + `_rep ON ` + t + `(rep, at, id);
CREATE INDEX IF NOT EXISTS ` + t + `_digest ON ` + t + `(rcpt_digest, at, id) WHERE rcpt_digest IS NOT NULL;
CREATE INDEX IF NOT EXISTS ` + t + `_ref ON ` + t + `(ref);`
}

// tables lists the month tables, newest first.
func (l *Ledger) tables(ctx context.Context, db queryer) ([]string, error) {
	rows, err := db.QueryContext(ctx,
		`SELECT name FROM sqlite_master WHERE type = 'table' AND name GLOB 'd_[0-9][0-9][0-9][0-9][0-9][0-9]' ORDER BY name DESC`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, rows.Err()
}

// Close stops the group commit and closes the connections.
func (l *Ledger) Close() error {
	if l.wr != nil {
		l.closeOutcomes()
		l.wr.Stop()
	}
	l.stmts.Close()
	var errs []error
	for _, db := range []*sql.DB{l.r, l.w} {
		if db != nil {
			errs = append(errs, db.Close())
		}
	}
	return errors.Join(errs...)
}

// nanos is how times are stored: Unix nanoseconds.
type nanos struct{}

func (nanos) Value(t time.Time) any    { return t.UnixNano() }
func (nanos) Dest() ledgersql.TimeDest { return &nanoDest{} }

type nanoDest struct{ n sql.NullInt64 }

func (d *nanoDest) Ptr() any { return &d.n }
func (d *nanoDest) Time() time.Time {
	if !d.n.Valid {
		return time.Time{}
	}
	return time.Unix(0, d.n.Int64).UTC()
}

var tc nanos
