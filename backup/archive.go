// Package backup writes and reads dncgate's backup archive: one file
// holding the store, the digest key, the unsubscribe keys, the SQLite
// ledger and the configuration, with a manifest of checksums, optionally
// encrypted with a passphrase, and restores it after checking it whole.
package backup

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"slices"
	"time"

	"filippo.io/age"
)

// FormatVersion is the archive format this package writes and reads.
const FormatVersion = 1

// The parts an archive may hold, by name inside it.
const (
	PartEmbedded        = "store/dncgate.db"      // the embedded store, a SQLite copy
	PartRedis           = "store/redis.keys"      // the Redis store's keys (keys.go)
	PartHMACKey         = "keys/hmac.key"         // the digest key file
	PartUnsubscribeKeys = "keys/unsubscribe.keys" // the unsubscribe token keys
	PartLedger          = "ledger/ledger.db"      // the SQLite ledger, a copy
	PartConfig          = "config/dncgate.toml"   // the configuration file
)

const manifestName = "manifest.json"

// maxManifest bounds the manifest read before anything is checked.
const maxManifest = 1 << 20

// ageHeader starts every age-encrypted file.
var ageHeader = []byte("age-encryption.org/")

// Manifest describes an archive; it is its first entry.
type Manifest struct {
	Format   int       `json:"format"`
	Created  time.Time `json:"created"`
	Backend  string    `json:"backend"` // "embedded" or "redis"
	Identity Identity  `json:"store_identity"`
	// Ledger says where the ledger is: "sqlite" (PartLedger holds it),
	// "postgres" (not in the archive: LedgerURL, without password, says
	// which database to back up with pg_dump) or "none".
	Ledger    string           `json:"ledger"`
	LedgerURL string           `json:"ledger_url,omitempty"`
	Counts    map[string]int64 `json:"counts"` // rows per table, keys per kind
	Files     []File           `json:"files"`
}

// Identity is the store's identity record as the manifest keeps it.
type Identity struct {
	ID             string    `json:"id"`
	CreatedAt      time.Time `json:"created"`
	KeyFingerprint string    `json:"key_fingerprint"`
	LinksSent      bool      `json:"links_sent"`
}

// File is one part of the archive with its checksum.
type File struct {
	Name   string `json:"name"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// File returns the manifest's entry for name.
func (m Manifest) File(name string) (File, bool) {
	i := slices.IndexFunc(m.Files, func(f File) bool { return f.Name == name })
	if i < 0 {
		return File{}, false
	}
	return m.Files[i], true
}

// write writes the archive of the parts in dir (each at dir/NAME) to w:
// tar, gzip, and age with an scrypt recipient when passphrase is set.
// It sets m's format and files.
func write(w io.Writer, m *Manifest, dir string, names []string, passphrase string, workFactor int) error {
	m.Format = FormatVersion
	m.Files = nil
	for _, n := range names {
		f, err := Checksum(filepath.Join(dir, filepath.FromSlash(n)))
		if err != nil {
			return err
		}
		f.Name = n
		m.Files = append(m.Files, f)
	}
	out, closeAll, err := encrypter(w, passphrase, workFactor)
	if err != nil {
		return err
	}
	gz := gzip.NewWriter(out)
	tw := tar.NewWriter(gz)
	man, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	if err := writeEntry(tw, manifestName, bytes.NewReader(man), int64(len(man)), m.Created); err != nil {
		return err
	}
	for _, f := range m.Files {
		if err := copyPart(tw, dir, f, m.Created); err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	if err := gz.Close(); err != nil {
		return err
	}
	return closeAll()
}

func encrypter(w io.Writer, passphrase string, workFactor int) (io.Writer, func() error, error) {
	if passphrase == "" {
		return w, func() error { return nil }, nil
	}
	r, err := age.NewScryptRecipient(passphrase)
	if err != nil {
		return nil, nil, err
	}
	if workFactor > 0 {
		r.SetWorkFactor(workFactor)
	}
	ew, err := age.Encrypt(w, r)
	if err != nil {
		return nil, nil, err
	}
	return ew, ew.Close, nil
}

func copyPart(tw *tar.Writer, dir string, f File, at time.Time) error {
	src, err := os.Open(filepath.Join(dir, filepath.FromSlash(f.Name)))
	if err != nil {
		return err
	}
	defer src.Close()
	return writeEntry(tw, f.Name, src, f.Size, at)
}

func writeEntry(tw *tar.Writer, name string, r io.Reader, size int64, at time.Time) error {
	hdr := &tar.Header{Name: name, Mode: 0o600, Size: size, ModTime: at, Typeflag: tar.TypeReg, Format: tar.FormatPAX}
	if err := tw.WriteHeader(hdr); err != nil {
		return err
	}
	if _, err := io.CopyN(tw, r, size); err != nil {
		return fmt.Errorf("archive: %s: %w", name, err)
	}
	return nil
}

// Checksum is the size and SHA-256 of the file at p, as the manifest
// lists each part.
func Checksum(p string) (File, error) {
	f, err := os.Open(p)
	if err != nil {
		return File{}, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return File{}, err
	}
	return File{Size: n, SHA256: hex.EncodeToString(h.Sum(nil))}, nil
}

// Errors of a bad archive; each comes wrapped with what was found.
var (
	ErrPassphrase = errors.New("the passphrase does not open the archive")
	ErrEncrypted  = errors.New("the archive is encrypted: give its passphrase (--passphrase-file or $DNCGATE_BACKUP_PASSPHRASE)")
	ErrTruncated  = errors.New("the archive is truncated")
	ErrDamaged    = errors.New("the archive is damaged")
	ErrFormat     = errors.New("the archive's format is not one this dncgate reads")
)

// read checks the archive in r whole and extracts its parts into dir
// (which must exist and be empty): every checksum, the format version,
// the passphrase. Nothing outside dir is written.
func read(r io.Reader, passphrase, dir string) (Manifest, error) {
	in, err := decrypter(r, passphrase)
	if err != nil {
		return Manifest{}, err
	}
	gz, err := gzip.NewReader(in)
	if err != nil {
		return Manifest{}, streamError(err, "not a dncgate backup (no gzip stream)")
	}
	tr := tar.NewReader(gz)
	m, err := readManifest(tr)
	if err != nil {
		return Manifest{}, err
	}
	for _, f := range m.Files {
		if err := extract(tr, dir, f); err != nil {
			return Manifest{}, err
		}
	}
	if hdr, err := tr.Next(); err == nil {
		return Manifest{}, fmt.Errorf("%w: %s is not in the manifest", ErrDamaged, hdr.Name)
	} else if !errors.Is(err, io.EOF) {
		return Manifest{}, streamError(err, "after the last part")
	}
	// The rest of the gzip stream: its CRC and length are checked at its end.
	if _, err := io.Copy(io.Discard, gz); err != nil {
		return Manifest{}, streamError(err, "at the end")
	}
	return m, nil
}

func decrypter(r io.Reader, passphrase string) (io.Reader, error) {
	br := bufio.NewReader(r)
	head, _ := br.Peek(len(ageHeader))
	if !bytes.Equal(head, ageHeader) {
		return br, nil
	}
	if passphrase == "" {
		return nil, ErrEncrypted
	}
	id, err := age.NewScryptIdentity(passphrase)
	if err != nil {
		return nil, err
	}
	d, err := age.Decrypt(br, id)
	var noMatch *age.NoIdentityMatchError
	switch {
	case errors.As(err, &noMatch):
		return nil, ErrPassphrase
	case errors.Is(err, io.ErrUnexpectedEOF):
		return nil, fmt.Errorf("%w (in the encryption header)", ErrTruncated)
	case err != nil:
		return nil, fmt.Errorf("%w: the encryption header: %v", ErrDamaged, err)
	}
	return ageReader{d}, nil
}

// ageReader names age's errors: a chunk that does not authenticate is
// an altered byte or a file cut short (the last chunk left is then not
// marked final), which age cannot tell apart.
type ageReader struct{ r io.Reader }

func (a ageReader) Read(p []byte) (int, error) {
	n, err := a.r.Read(p)
	if err != nil && !errors.Is(err, io.EOF) {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return n, ErrTruncated
		}
		return n, fmt.Errorf("%w (truncated or altered): %v", ErrDamaged, err)
	}
	return n, err
}

// streamError names what a read of the gzip and tar streams ran into.
func streamError(err error, where string) error {
	switch {
	case errors.Is(err, ErrTruncated), errors.Is(err, ErrDamaged):
		return fmt.Errorf("%w (%s)", err, where)
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return fmt.Errorf("%w (%s)", ErrTruncated, where)
	}
	return fmt.Errorf("%w (%s): %v", ErrDamaged, where, err)
}

func readManifest(tr *tar.Reader) (Manifest, error) {
	hdr, err := tr.Next()
	if err != nil {
		return Manifest{}, streamError(err, "reading the manifest")
	}
	if hdr.Name != manifestName || hdr.Size > maxManifest {
		return Manifest{}, fmt.Errorf("%w: the first entry is %q, not the manifest", ErrDamaged, hdr.Name)
	}
	b, err := io.ReadAll(tr)
	if err != nil {
		return Manifest{}, streamError(err, "reading the manifest")
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return Manifest{}, fmt.Errorf("%w: the manifest: %v", ErrDamaged, err)
	}
	if m.Format != FormatVersion {
		return Manifest{}, fmt.Errorf("%w: format version %d, this dncgate reads version %d", ErrFormat, m.Format, FormatVersion)
	}
	for _, f := range m.Files {
		if !validPart(f.Name) {
			return Manifest{}, fmt.Errorf("%w: the manifest names an unknown part %q", ErrDamaged, f.Name)
		}
	}
	return m, nil
}

func validPart(name string) bool {
	switch name {
	case PartEmbedded, PartRedis, PartHMACKey, PartUnsubscribeKeys, PartLedger, PartConfig:
		return path.Clean(name) == name
	}
	return false
}

func extract(tr *tar.Reader, dir string, f File) error {
	hdr, err := tr.Next()
	if err != nil {
		return streamError(err, "before "+f.Name)
	}
	if hdr.Name != f.Name || hdr.Size != f.Size {
		return fmt.Errorf("%w: found %s (%d bytes) where the manifest has %s (%d bytes)", ErrDamaged, hdr.Name, hdr.Size, f.Name, f.Size)
	}
	dst := filepath.Join(dir, filepath.FromSlash(f.Name))
	if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
		return err
	}
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	defer out.Close()
	h := sha256.New()
	if _, err := io.Copy(io.MultiWriter(out, h), tr); err != nil {
		return streamError(err, "in "+f.Name)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != f.SHA256 {
		return fmt.Errorf("%w: %s has SHA-256 %s, the manifest says %s", ErrDamaged, f.Name, got, f.SHA256)
	}
	return out.Close()
}
