package embedded

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/dncgate/dncgate/listdb"
)

const (
	// indexDirSuffix names the folder of index files: the database's path
	// plus this, so that two databases in one folder keep theirs apart.
	indexDirSuffix = "-lists"
	// indexWriteBuffer batches the small writes of a build.
	indexWriteBuffer = 1 << 20
	// staleBuild is how long a build file may go untouched before the
	// sweep takes it for one a crash left behind; a running build writes
	// every few milliseconds.
	staleBuild = 10 * time.Minute
	// buildLockPoll is how often a process waiting for another's build
	// tries the lock again.
	buildLockPoll = 50 * time.Millisecond
	// lockSuffix names a version's build lock file.
	lockSuffix = ".lock"
)

var (
	castagnoli = crc32.MakeTable(crc32.Castagnoli)
	// errVersionGone is a build of a version that is not (or no longer)
	// committed: its entries may be half deleted.
	errVersionGone = errors.New("version not committed or being deleted")
)

func crc32c(crc uint32, b []byte) uint32 { return crc32.Update(crc, castagnoli, b) }

func (s *Store) indexDir() string { return s.path + indexDirSuffix }

func (s *Store) indexPath(version int64) string {
	return filepath.Join(s.indexDir(), strconv.FormatInt(version, 10)+idxSuffix)
}

func (s *Store) lockPath(version int64) string {
	return filepath.Join(s.indexDir(), strconv.FormatInt(version, 10)+lockSuffix)
}

// expectIndex reads what the index of a committed version must hold.
func expectIndex(ctx context.Context, db *sql.DB, version int64) (indexExpect, error) {
	var (
		info        sql.NullString
		first, last []byte
		want        indexExpect
	)
	err := db.QueryRowContext(ctx, `SELECT info,
		(SELECT min(digest) FROM list_entries WHERE version = ?1),
		(SELECT max(digest) FROM list_entries WHERE version = ?1)
		FROM list_versions WHERE id = ?1`, version).Scan(&info, &first, &last)
	if errors.Is(err, sql.ErrNoRows) || err == nil && !info.Valid {
		return want, fmt.Errorf("version %d: %w", version, errVersionGone)
	}
	if err != nil {
		return want, fmt.Errorf("version %d: %w", version, err)
	}
	var v listdb.Version
	if err := json.Unmarshal([]byte(info.String), &v); err != nil {
		return want, fmt.Errorf("version %d: stored info: %w", version, err)
	}
	want.entries = v.Entries
	copy(want.first[:], first)
	copy(want.last[:], last)
	return want, nil
}

// ensureIndex makes sure a good index file of a committed version
// exists: it takes the version's build lock, which processes share, so
// that a gateway and the command that imported the version do not both
// build it, then keeps the file it finds (checked whole when verify is
// set) or builds one.
func (s *Store) ensureIndex(ctx context.Context, version int64, verify bool) error {
	unlock, err := s.lockBuild(ctx, version)
	if err != nil {
		return fmt.Errorf("version %d: build lock: %w", version, err)
	}
	defer unlock()
	x, err := s.openIndexOf(ctx, version)
	if errors.Is(err, errVersionGone) {
		return err
	}
	if err == nil {
		x.close()
		if !verify || verifyIndexFile(s.indexPath(version)) == nil {
			return nil
		}
	}
	return s.buildIndex(ctx, version)
}

// lockBuild takes the version's build lock, an flock on a file of its
// own that the kernel releases if the holder dies, waiting while another
// process holds it. The file stays until the version goes: removing it on
// unlock would let a waiter lock a file that no longer has a name.
func (s *Store) lockBuild(ctx context.Context, version int64) (unlock func(), err error) {
	if err := os.MkdirAll(s.indexDir(), 0o700); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(s.lockPath(version), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() { f.Close() }, nil // closing releases the lock
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			f.Close()
			return nil, err
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, ctx.Err()
		case <-time.After(buildLockPoll):
		}
	}
}

// buildIndex writes the index of a committed version: the entries in
// primary-key order, which is digest order, streamed to a temporary file
// that is synced and renamed into place, so a reader finds the whole file
// or none. Memory stays flat whatever the version's size.
func (s *Store) buildIndex(ctx context.Context, version int64) error {
	want, err := expectIndex(ctx, s.r, version)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(s.indexDir(), 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(s.indexDir(), idxTempPrefix+"*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name()) // fails once renamed
	defer f.Close()
	if want.entries > maxEntries {
		return fmt.Errorf("version %d: %d entries, an index holds at most %d", version, want.entries, uint64(maxEntries))
	}
	h, err := writeEntries(ctx, s.r, f, version, uint64(want.entries))
	if err != nil {
		return fmt.Errorf("version %d: %w", version, err)
	}
	if h.count != uint64(want.entries) {
		// Entries are deleted after the version stops being current.
		return fmt.Errorf("version %d: read %d entries of %d: %w", version, h.count, want.entries, errVersionGone)
	}
	if _, err := f.WriteAt(h.encode(), 0); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), s.indexPath(version))
}

// writeEntries writes the header's room, the version's n entries and
// their radix table, and returns the header for them.
func writeEntries(ctx context.Context, db *sql.DB, f *os.File, version int64, n uint64) (indexHeader, error) {
	h := indexHeader{version: version}
	bw := bufio.NewWriterSize(f, indexWriteBuffer)
	if _, err := bw.Write(make([]byte, idxHeaderSize)); err != nil {
		return h, err
	}
	rows, err := db.QueryContext(ctx, `SELECT digest FROM list_entries WHERE version = ? ORDER BY digest`, version)
	if err != nil {
		return h, err
	}
	defer rows.Close()
	var prev []byte
	radix := newRadixTable(n)
	for rows.Next() {
		var d sql.RawBytes
		if err := rows.Scan(&d); err != nil {
			return h, err
		}
		if len(d) != listdb.DigestSize {
			return h, fmt.Errorf("entry %d is %d bytes, want %d", h.count, len(d), listdb.DigestSize)
		}
		if prev != nil && string(prev) >= string(d) {
			return h, fmt.Errorf("entry %d out of order", h.count)
		}
		if h.count == n {
			return h, fmt.Errorf("more than the version's %d entries: %w", n, errVersionGone)
		}
		radix.add(d)
		bw.Write(d) // a write error sticks and comes back from Flush
		h.crc = crc32c(h.crc, d)
		h.count++
		prev = append(prev[:0], d...)
	}
	if err := rows.Err(); err != nil {
		return h, err
	}
	bw.Write(radix.table())
	return h, bw.Flush()
}

// removeIndex deletes a version's index and lock files, if any: the
// version is gone. A process that has it mapped keeps reading its copy.
func (s *Store) removeIndex(version int64) {
	os.Remove(s.indexPath(version))
	os.Remove(s.lockPath(version))
}

// sweepIndexes removes the index and lock files of versions that no
// longer exist
// and builds a crash left behind. The folder is read before the versions:
// a file is only ever written for a version already in the table, and ids
// are never reused, so a file whose id is missing from the later read
// belongs to a deleted version.
func (s *Store) sweepIndexes(ctx context.Context, now time.Time) error {
	ents, err := os.ReadDir(s.indexDir())
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	live, err := s.versionIDs(ctx)
	if err != nil {
		return err
	}
	for _, e := range ents {
		if gone(e, live, now) {
			os.Remove(filepath.Join(s.indexDir(), e.Name()))
		}
	}
	return nil
}

// gone reports a folder entry the sweep removes.
func gone(e os.DirEntry, live map[int64]bool, now time.Time) bool {
	name := e.Name()
	if strings.HasPrefix(name, idxTempPrefix) {
		fi, err := e.Info()
		return err == nil && now.Sub(fi.ModTime()) > staleBuild
	}
	for _, suffix := range []string{idxSuffix, lockSuffix} {
		if id, err := strconv.ParseInt(strings.TrimSuffix(name, suffix), 10, 64); strings.HasSuffix(name, suffix) && err == nil {
			return !live[id]
		}
	}
	return false
}

func (s *Store) versionIDs(ctx context.Context) (map[int64]bool, error) {
	rows, err := s.w.QueryContext(ctx, `SELECT id FROM list_versions`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	ids := map[int64]bool{}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids[id] = true
	}
	return ids, rows.Err()
}
