package backup

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/dncgate/dncgate/config"
	"github.com/dncgate/dncgate/store"
)

// Restorer is the Redis store's side of a restore.
type Restorer interface {
	// Restore replaces the store's keys with those next returns (io.EOF
	// after the last), the identity record last.
	Restore(ctx context.Context, next func() (store.DumpedKey, error)) (int, error)
}

// Target is where a restore writes.
type Target struct {
	Backend string
	// Identity reads the target store's identity (store.ErrNoIdentity
	// when it has none); Empty says whether it holds no data at all.
	Identity func(ctx context.Context) (store.Identity, error)
	Empty    func(ctx context.Context) (bool, error)
	// StorePath and InstallSQLite put the embedded store's copy in place:
	// InstallSQLite(src, dst) renames src (beside dst) over dst.
	StorePath     string
	InstallSQLite func(src, dst string) error
	Keys          Restorer // the Redis store
	// HMACKeyFile is where the digest key file goes; "" when the
	// configuration holds the key, which ConfiguredKey then is. When the
	// key file exists, ConfiguredKey is its key too (nil otherwise).
	HMACKeyFile   string
	ConfiguredKey []byte
	// UnsubscribeKeysFile and LedgerPath are where those parts go;
	// LedgerPath is "" when the ledger is in PostgreSQL.
	UnsubscribeKeysFile string
	LedgerPath          string
	// ConfigFile is the configuration in use ("" for none): the archive's
	// copy is written beside it as FILE.restored when it differs.
	ConfigFile string
	// Force restores onto a store of another identity, or one holding
	// data without identity, and over key files that differ.
	Force bool
}

// Result says what a restore did.
type Result struct {
	Manifest   Manifest
	Written    []string // the files written, the store's first
	Keys       int      // Redis keys written
	ConfigCopy string   // where the archive's configuration went, "" when not written
}

// ErrRefused is the error of a restore the target's checks refuse.
var ErrRefused = errors.New("restore refused")

// RestoreFile checks the archive at path whole, then the target, and
// only then writes. Every part is copied beside its destination before
// the first one is put in place, each by a rename; see the README for
// what a Redis store goes through.
func RestoreFile(ctx context.Context, path string, t Target, o Options) (Result, error) {
	f, err := os.Open(path)
	if err != nil {
		return Result{}, err
	}
	defer f.Close()
	dir, err := os.MkdirTemp("", "dncgate-restore-*")
	if err != nil {
		return Result{}, err
	}
	defer os.RemoveAll(dir)
	m, err := read(f, o.Passphrase, dir)
	if err != nil {
		return Result{}, fmt.Errorf("%s: %w; nothing was written", path, err)
	}
	if err := t.check(ctx, m, dir); err != nil {
		return Result{}, fmt.Errorf("%w: %w; nothing was written", ErrRefused, err)
	}
	return t.write(ctx, m, dir)
}

// check compares the archive with the target.
func (t Target) check(ctx context.Context, m Manifest, dir string) error {
	if m.Backend != t.Backend {
		return fmt.Errorf("the archive holds a %s store and the configuration names a %s store", m.Backend, t.Backend)
	}
	if err := t.checkIdentity(ctx, m); err != nil {
		return err
	}
	if err := t.checkKey(m, dir); err != nil {
		return err
	}
	if _, ok := m.File(PartUnsubscribeKeys); ok && !t.Force {
		if same, err := sameContent(partFile(dir, PartUnsubscribeKeys), t.UnsubscribeKeysFile); err != nil {
			return err
		} else if !same {
			return fmt.Errorf("the unsubscribe key file %s differs from the archive's (--force replaces it; links sealed with its keys would stop working)", t.UnsubscribeKeysFile)
		}
	}
	return nil
}

func (t Target) checkIdentity(ctx context.Context, m Manifest) error {
	id, err := t.Identity(ctx)
	if errors.Is(err, store.ErrNoIdentity) {
		empty, err := t.Empty(ctx)
		if err != nil {
			return err
		}
		if !empty && !t.Force {
			return errors.New("the target store holds data but no identity record (--force replaces it)")
		}
		return nil
	}
	if err != nil {
		return err
	}
	if id.ID != m.Identity.ID && !t.Force {
		return fmt.Errorf("the target store is %s (created %s), the archive's store is %s (created %s): --force replaces it",
			id.ID, id.CreatedAt.Format("2006-01-02 15:04:05Z"), m.Identity.ID, m.Identity.CreatedAt.Format("2006-01-02 15:04:05Z"))
	}
	return nil
}

// checkKey makes sure the store restored is read with its own key: the
// archive's key file (whose fingerprint must be the manifest's), else
// the configured key.
func (t Target) checkKey(m Manifest, dir string) error {
	want := m.Identity.KeyFingerprint
	if _, ok := m.File(PartHMACKey); ok && t.HMACKeyFile != "" {
		b, err := os.ReadFile(partFile(dir, PartHMACKey))
		if err != nil {
			return err
		}
		key, err := config.ParseHMACKey(string(b))
		if err != nil {
			return fmt.Errorf("%w: %s: %v", ErrDamaged, PartHMACKey, err)
		}
		if got := store.KeyFingerprint(key); got != want {
			return fmt.Errorf("%w: its digest key (fingerprint %s) is not its store's (fingerprint %s)", ErrDamaged, got, want)
		}
		if t.ConfiguredKey != nil && !t.Force && store.KeyFingerprint(t.ConfiguredKey) != want {
			return fmt.Errorf("the digest key %s (fingerprint %s) differs from the archive's (fingerprint %s): --force replaces it",
				t.HMACKeyFile, store.KeyFingerprint(t.ConfiguredKey), want)
		}
		return nil
	}
	if t.ConfiguredKey == nil {
		return fmt.Errorf("the archive holds no digest key file and the configured key cannot be read: set privacy.hmac_key to the key of the store (fingerprint %s)", want)
	}
	if got := store.KeyFingerprint(t.ConfiguredKey); got != want {
		return fmt.Errorf("the configured digest key (fingerprint %s) is not the archive's store's (fingerprint %s); the archive's configuration copy holds the key it used", got, want)
	}
	return nil
}

func partFile(dir, name string) string { return filepath.Join(dir, filepath.FromSlash(name)) }

// sameContent reports whether the file at b is absent or holds what a holds.
func sameContent(a, b string) (bool, error) {
	want, err := os.ReadFile(a)
	if err != nil {
		return false, err
	}
	got, err := os.ReadFile(b)
	if errors.Is(err, fs.ErrNotExist) {
		return true, nil
	}
	return bytes.Equal(bytes.TrimSpace(want), bytes.TrimSpace(got)), err
}

// staged is a part copied beside its destination, waiting for its rename.
type staged struct{ tmp, dst string }

// write stages the files, restores the store, then renames the files.
func (t Target) write(ctx context.Context, m Manifest, dir string) (Result, error) {
	res := Result{Manifest: m}
	var files []staged
	defer func() {
		for _, s := range files {
			os.Remove(s.tmp)
		}
	}()
	for _, p := range []struct{ name, dst string }{
		{PartHMACKey, t.HMACKeyFile},
		{PartUnsubscribeKeys, t.UnsubscribeKeysFile},
		{PartLedger, t.LedgerPath},
	} {
		if _, ok := m.File(p.name); !ok || p.dst == "" {
			continue
		}
		s, err := stage(partFile(dir, p.name), p.dst)
		if err != nil {
			return res, fmt.Errorf("copying %s to %s: %w; nothing was written", p.name, p.dst, err)
		}
		files = append(files, s)
	}
	if err := t.restoreStore(ctx, m, dir, &res); err != nil {
		return res, err
	}
	for _, s := range files {
		install := os.Rename
		if s.dst == t.LedgerPath {
			install = t.InstallSQLite
		}
		if err := install(s.tmp, s.dst); err != nil {
			return res, fmt.Errorf("the store is restored, but %s could not be put in place: %w", s.dst, err)
		}
		res.Written = append(res.Written, s.dst)
	}
	files = nil
	copyPath, err := t.writeConfig(m, dir)
	res.ConfigCopy = copyPath
	return res, err
}

func (t Target) restoreStore(ctx context.Context, m Manifest, dir string, res *Result) error {
	if m.Backend == BackendEmbedded {
		s, err := stage(partFile(dir, PartEmbedded), t.StorePath)
		if err != nil {
			return fmt.Errorf("copying the store to %s: %w; nothing was written", t.StorePath, err)
		}
		if err := t.InstallSQLite(s.tmp, s.dst); err != nil {
			os.Remove(s.tmp)
			return fmt.Errorf("putting the store in place at %s: %w", t.StorePath, err)
		}
		res.Written = append(res.Written, t.StorePath)
		return nil
	}
	f, err := os.Open(partFile(dir, PartRedis))
	if err != nil {
		return err
	}
	defer f.Close()
	kr := keyReader{bufio.NewReaderSize(f, 1<<16)}
	n, err := t.Keys.Restore(ctx, kr.next)
	res.Keys = n
	if err != nil {
		return fmt.Errorf("restoring the Redis store stopped after %d keys: %w; it has no identity record now, so the gateways send nothing: run the restore again", n, err)
	}
	return nil
}

// stage copies src to a temporary file beside dst.
func stage(src, dst string) (staged, error) {
	if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
		return staged{}, err
	}
	out, err := os.CreateTemp(filepath.Dir(dst), "."+filepath.Base(dst)+".restore-*")
	if err != nil {
		return staged{}, err
	}
	s := staged{tmp: out.Name(), dst: dst}
	in, err := os.Open(src)
	if err == nil {
		_, err = io.Copy(out, in)
		in.Close()
	}
	if err == nil {
		err = out.Sync()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(s.tmp, 0o600)
	}
	if err != nil {
		os.Remove(s.tmp)
		return staged{}, err
	}
	return s, nil
}

// writeConfig writes the archive's configuration beside the one in use
// when they differ; the one in use is never replaced.
func (t Target) writeConfig(m Manifest, dir string) (string, error) {
	if _, ok := m.File(PartConfig); !ok || t.ConfigFile == "" {
		return "", nil
	}
	src := partFile(dir, PartConfig)
	if same, err := sameContent(src, t.ConfigFile); err == nil && same {
		if _, err := os.Stat(t.ConfigFile); err == nil {
			return "", nil
		}
	}
	dst := t.ConfigFile + ".restored"
	s, err := stage(src, dst)
	if err != nil {
		return "", err
	}
	return dst, os.Rename(s.tmp, s.dst)
}
