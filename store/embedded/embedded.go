// Package embedded is the default store: one SQLite file that the server
// and the admin commands share, each in its own process.
//
// SQLite in WAL mode lets readers run while one writer writes, across
// processes; busy_timeout makes a writer wait for another process's write
// instead of failing. Nothing is cached in memory, so a user added by one
// process can log in through another at once; list lookups alone keep a
// cache, checked against a change log in the file at every lookup
// (listcache.go), and index files beside the database (listindex.go).
package embedded

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/dncgate/dncgate/store"

	"github.com/dncgate/dncgate/internal/groupcommit"
	"github.com/dncgate/dncgate/internal/stmtcache"
	_ "modernc.org/sqlite" // registers the "sqlite" driver, pure Go
)

const (
	// busyTimeout is how long a write waits for another process's write.
	// The admin CLI's writes are short, so 5 s is ample.
	busyTimeout = 5 * time.Second
	// readConns bounds the concurrent readers: WAL readers do not block each
	// other, but each connection holds its own page cache.
	readConns = 4
	// purgeEvery is how many marks (or hits) pass between two purges of
	// expired rows; purgeBatch bounds one purge. purgeBatch > purgeEvery
	// so purges outpace the rows that can expire in between.
	purgeEvery = 256
	purgeBatch = 1024
)

var (
	errEmptyEmail = errors.New("embedded: empty email")
	errBadTTL     = errors.New("embedded: ttl must be positive")
)

// Store is the SQLite store. It is safe for concurrent use, also by several
// processes opening the same file.
type Store struct {
	w    *sql.DB // the one writing connection: writes serialise in SQLite anyway
	r    *sql.DB // a few read-only connections
	st   statements
	now  func() time.Time
	path string

	purgeEvery uint64 // the purgeEvery constant; tests lower it
	marks      atomic.Uint64
	mk         *groupcommit.Batcher[markReq] // group commit of delivered marks
	tg         *groupcommit.Batcher[txOp]    // group commit of cap writes
	hits       atomic.Uint64

	lazy         stmtcache.Cache // lookups on tables made by the first import
	lists        *listCache      // the lists' fast read path
	contactReads *rawReader      // Contact's statement

	guard atomic.Pointer[string] // the identity list reads expect (identity.go)
}

var _ store.Store = (*Store)(nil)

// Open opens the store at path, creating the folder, the file (mode 0600:
// it holds password hashes) and the schema when missing.
func Open(path string) (*Store, error) {
	if strings.ContainsAny(path, "?#") {
		return nil, fmt.Errorf("embedded: %q: '?' and '#' are not allowed in the path", path)
	}
	if err := createFile(path); err != nil {
		return nil, err
	}
	s := &Store{now: time.Now, path: path, purgeEvery: purgeEvery}
	s.lists = newListCache(s)
	s.contactReads = newRawReader(path, qContact)
	if err := s.open(); err != nil {
		s.Close()
		return nil, fmt.Errorf("embedded: %s: %w", path, err)
	}
	return s, nil
}

// SetClock replaces the clock (time.Now by default) that timestamps users
// and decides expiry. Call it before the store is shared.
func (s *Store) SetClock(now func() time.Time) { s.now = now }

func createFile(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("embedded: %w", err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("embedded: %w", err)
	}
	return f.Close()
}

func (s *Store) open() error {
	var err error
	if s.w, err = openPool(s.path, false, 1); err != nil {
		return err
	}
	if err = migrate(s.w); err != nil {
		return err
	}
	if s.r, err = openPool(s.path, true, readConns); err != nil {
		return err
	}
	if err = s.st.prepare(s.w, s.r); err != nil {
		return err
	}
	s.purge(context.Background())
	s.startMarker()
	s.startTxGroup()
	return nil
}

// openPool opens n connections with the settings every connection needs:
// the busy timeout first, then WAL and synchronous=NORMAL, which in WAL
// keeps the file consistent after a crash and loses at most the last
// commits on power loss. Explicit transactions start IMMEDIATE so that a
// reader turned writer never fails with SQLITE_BUSY mid-transaction.
// readMmapBytes is how much of the file each reading connection maps.
const readMmapBytes = 1 << 30

func openPool(path string, readOnly bool, n int) (*sql.DB, error) {
	dsn := fmt.Sprintf("%s?_busy_timeout=%d&_journal_mode=WAL&_synchronous=NORMAL&_txlock=immediate",
		path, busyTimeout.Milliseconds())
	if readOnly {
		// Checks read list, contact and cap pages at random: mapping the
		// file saves a read system call and a copy per page, which is most
		// of a lookup once lists reach millions of entries. The mapping is
		// address space, not memory; the kernel's page cache backs it.
		dsn += fmt.Sprintf("&_query_only=1&_pragma=mmap_size(%d)", readMmapBytes)
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

// Ping reads the schema version, which touches the file, and when guarded
// the identity (identity.go).
func (s *Store) Ping(ctx context.Context) error {
	var v int
	if err := s.r.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		return fmt.Errorf("embedded: ping: %w", err)
	}
	return s.checkGuard(ctx)
}

// Close closes the statements and the connections.
func (s *Store) Close() error {
	s.stopMarker()
	s.stopTxGroup()
	errs := []error{s.lists.close(), s.contactReads.close(), s.st.close()}
	errs = append(errs, s.lazy.Close())
	for _, db := range []*sql.DB{s.r, s.w} {
		if db != nil {
			errs = append(errs, db.Close())
		}
	}
	return errors.Join(errs...)
}

// nanos is how times are stored: Unix nanoseconds, exact and ordered.
func nanos(t time.Time) int64 { return t.UnixNano() }

func fromNanos(n int64) time.Time { return time.Unix(0, n).UTC() }
