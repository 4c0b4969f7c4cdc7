package embedded

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// Online copies and their restore. A copy is made with VACUUM INTO, which
// reads the whole database in one read transaction: the copy is the file
// as one commit left it, whatever the gateway writes meanwhile, and it is
// compact (no free pages, no WAL beside it).

// ErrServing and ErrRestoring say who holds the serve lock (LockServe).
var (
	ErrServing   = errors.New("dncgate serve is running")
	ErrRestoring = errors.New("dncgate restore is running")
)

// Snapshot writes a consistent copy of the database to dst, which must
// not exist, and counts the rows of each of the copy's tables.
func (s *Store) Snapshot(ctx context.Context, dst string) (map[string]int64, error) {
	if err := SnapshotFile(ctx, s.path, dst); err != nil {
		return nil, fmt.Errorf("embedded: snapshot of %s: %w", s.path, err)
	}
	counts, err := FileTableCounts(ctx, dst)
	if err != nil {
		return nil, fmt.Errorf("embedded: snapshot of %s: %w", s.path, err)
	}
	return counts, nil
}

// SnapshotFile copies the SQLite database at src to dst (which must not
// exist) with VACUUM INTO, through a connection of its own: for the store
// and for any other SQLite file that needs an online copy (the ledger).
func SnapshotFile(ctx context.Context, src, dst string) error {
	if _, err := os.Stat(src); err != nil {
		return err
	}
	db, err := openPool(src, false, 1)
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, "VACUUM INTO ?", dst); err != nil {
		return err
	}
	return os.Chmod(dst, 0o600)
}

// TableCounts counts the rows of every table of the database, by name:
// what a backup's manifest reports, and the list of tables the data map
// must cover.
func (s *Store) TableCounts(ctx context.Context) (map[string]int64, error) {
	return countTables(ctx, s.r)
}

// FileTableCounts is TableCounts of the SQLite file at path (a copy).
func FileTableCounts(ctx context.Context, path string) (map[string]int64, error) {
	db, err := openPool(path, true, 1)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	return countTables(ctx, db)
}

func countTables(ctx context.Context, db *sql.DB) (map[string]int64, error) {
	rows, err := db.QueryContext(ctx, `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`)
	if err != nil {
		return nil, err
	}
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			rows.Close()
			return nil, err
		}
		names = append(names, n)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	counts := make(map[string]int64, len(names))
	for _, n := range names {
		var c int64
		// The name comes from sqlite_master; quoting keeps it one identifier.
		q := `SELECT count(*) FROM "` + strings.ReplaceAll(n, `"`, `""`) + `"`
		if err := db.QueryRowContext(ctx, q).Scan(&c); err != nil {
			return nil, fmt.Errorf("counting %s: %w", n, err)
		}
		counts[n] = c
	}
	return counts, nil
}

// LockServe takes the lock file at path shared, as serve does for as
// long as it runs (several may); ErrRestoring while a restore holds it.
// LockRestore takes it alone, as a restore does while it writes;
// ErrServing while a serve holds it. The kernel releases a lock when its
// holder dies.
func LockServe(path string) (unlock func(), err error) {
	return lockFile(path, syscall.LOCK_SH, ErrRestoring)
}

// LockRestore: see LockServe.
func LockRestore(path string) (unlock func(), err error) {
	return lockFile(path, syscall.LOCK_EX, ErrServing)
}

func lockFile(path string, how int, busy error) (func(), error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), how|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("%s: %w", path, busy)
		}
		return nil, err
	}
	return func() { f.Close() }, nil
}

// Install puts the database copy at src in place of the store at dst:
// src is synced and renamed over dst, so dst is the old file or the new
// one, never a mix. The old file's WAL is checkpointed into it and then
// removed with its shared-memory file (a WAL left beside the new file
// would be replayed into it), and its
// list index folder after (indexes are rebuilt from the database). src
// must be on dst's file system. The caller holds LockServe.
func Install(src, dst string) error {
	f, err := os.Open(src)
	if err != nil {
		return err
	}
	err = f.Sync()
	f.Close()
	if err != nil {
		return err
	}
	if err := os.Chmod(src, 0o600); err != nil {
		return err
	}
	if err := checkpoint(dst); err != nil {
		return fmt.Errorf("emptying the WAL of %s: %w", dst, err)
	}
	for _, p := range []string{dst + "-wal", dst + "-shm"} {
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	if err := os.Rename(src, dst); err != nil {
		return err
	}
	if d, err := os.Open(filepath.Dir(dst)); err == nil {
		d.Sync()
		d.Close()
	}
	return os.RemoveAll(dst + indexDirSuffix)
}

// checkpoint moves the WAL of the database at path (when there is one)
// into the file and empties it.
func checkpoint(path string) error {
	if _, err := os.Stat(path + "-wal"); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	db, err := openPool(path, false, 1)
	if err != nil {
		return err
	}
	defer db.Close()
	_, err = db.Exec("PRAGMA wal_checkpoint(TRUNCATE)")
	return err
}
