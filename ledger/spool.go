package ledger

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"sync"
)

// ErrSpoolFull: the ledger cannot be written and the spool has no room
// left. The relay answers 451 rather than send without a record.
var ErrSpoolFull = errors.New("ledger: unavailable and its spool is full")

// headerSize is a spool entry's header: payload length, CRC-32C.
// maxEntry bounds a length read back, so a corrupt header cannot ask for
// gigabytes.
const (
	headerSize = 8
	maxEntry   = 64 << 20
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// entry is one spooled write, in the order it was made.
type entry struct {
	Decisions []Decision  `json:"d,omitempty"`
	Ref       string      `json:"ref,omitempty"`
	Rcpt      *Digest     `json:"rcpt,omitempty"`
	Outcome   *Outcome    `json:"o,omitempty"`
	Audit     *AuditEvent `json:"a,omitempty"`
}

// Spool is a bounded append-only file of writes the ledger could not
// take: each entry length-prefixed, checksummed and fsync'd before the
// call returns. A torn last entry (a crash mid-append) is cut off when the
// file is opened.
type Spool struct {
	mu   sync.Mutex
	f    *os.File
	size int64 // bytes of whole entries
	read int64 // bytes already replayed
	max  int64
}

// OpenSpool opens or creates the spool at path, holding at most max bytes.
func OpenSpool(path string, max int64) (*Spool, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("ledger: spool: %w", err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("ledger: spool: %w", err)
	}
	s := &Spool{f: f, max: max}
	if s.size, err = validLength(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("ledger: spool %s: %w", path, err)
	}
	if err := f.Truncate(s.size); err != nil {
		f.Close()
		return nil, fmt.Errorf("ledger: spool %s: %w", path, err)
	}
	return s, nil
}

// validLength is the length of the file's run of whole, intact entries.
func validLength(f *os.File) (int64, error) {
	var off int64
	for {
		_, n, err := readEntry(f, off)
		if errors.Is(err, io.EOF) || errors.Is(err, errTorn) {
			return off, nil
		}
		if err != nil {
			return 0, err
		}
		off += n
	}
}

var errTorn = errors.New("ledger: spool entry torn or corrupt")

// readEntry reads the entry at off and its length on disk.
func readEntry(r io.ReaderAt, off int64) (entry, int64, error) {
	var h [headerSize]byte
	switch got, err := r.ReadAt(h[:], off); {
	case got == 0 && errors.Is(err, io.EOF):
		return entry{}, 0, io.EOF
	case got < headerSize && errors.Is(err, io.EOF):
		return entry{}, 0, errTorn
	case got < headerSize:
		return entry{}, 0, err
	}
	n, sum := binary.BigEndian.Uint32(h[:4]), binary.BigEndian.Uint32(h[4:])
	if n > maxEntry {
		return entry{}, 0, errTorn
	}
	payload := make([]byte, n)
	if _, err := r.ReadAt(payload, off+headerSize); err != nil {
		if errors.Is(err, io.EOF) {
			return entry{}, 0, errTorn
		}
		return entry{}, 0, err
	}
	if crc32.Checksum(payload, castagnoli) != sum {
		return entry{}, 0, errTorn
	}
	var e entry
	if err := json.Unmarshal(payload, &e); err != nil {
		return entry{}, 0, errTorn
	}
	return e, headerSize + int64(n), nil
}

// append writes e durably, or fails with ErrSpoolFull.
func (s *Spool) append(e entry) error {
	payload, err := json.Marshal(e)
	if err != nil {
		return err
	}
	buf := make([]byte, headerSize+len(payload))
	binary.BigEndian.PutUint32(buf[:4], uint32(len(payload)))
	binary.BigEndian.PutUint32(buf[4:8], crc32.Checksum(payload, castagnoli))
	copy(buf[headerSize:], payload)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.size+int64(len(buf)) > s.max {
		return ErrSpoolFull
	}
	if _, err := s.f.WriteAt(buf, s.size); err != nil {
		return fmt.Errorf("ledger: spool: %w", err)
	}
	if err := s.f.Sync(); err != nil {
		// The bytes may or may not be there; the next open cuts a torn
		// entry, and the size stays where the last whole entry ended.
		return fmt.Errorf("ledger: spool: %w", err)
	}
	s.size += int64(len(buf))
	return nil
}

// Pending reports whether entries wait for replay.
func (s *Spool) Pending() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.read < s.size
}

// Bytes is the spool's current size.
func (s *Spool) Bytes() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.size
}

// next returns the entry to replay and where the one after starts; ok is
// false when none waits.
func (s *Spool) next() (e entry, end int64, ok bool, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.read >= s.size {
		return entry{}, 0, false, nil
	}
	e, n, err := readEntry(s.f, s.read)
	if err != nil {
		return entry{}, 0, false, fmt.Errorf("ledger: spool: %w", err)
	}
	return e, s.read + n, true, nil
}

// done marks entries up to end replayed; once all are, the file is
// emptied.
func (s *Spool) done(end int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.read = end
	if s.read < s.size {
		return nil
	}
	if err := s.f.Truncate(0); err != nil {
		return fmt.Errorf("ledger: spool: %w", err)
	}
	s.read, s.size = 0, 0
	return s.f.Sync()
}

// Close closes the file; what is spooled stays for the next start.
func (s *Spool) Close() error { return s.f.Close() }
