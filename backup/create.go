package backup

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/dncgate/dncgate/store"
)

// Backends, as the manifest names them.
const (
	BackendEmbedded = "embedded"
	BackendRedis    = "redis"
)

// Ledger kinds, as the manifest names them.
const (
	LedgerSQLite   = "sqlite"
	LedgerPostgres = "postgres"
	LedgerNone     = "none"
)

// Snapshotter is the embedded store's side of a backup.
type Snapshotter interface {
	// Snapshot writes a consistent copy of the database to dst and counts
	// the copy's rows per table.
	Snapshot(ctx context.Context, dst string) (map[string]int64, error)
}

// Dumper is the Redis store's side of a backup.
type Dumper interface {
	// Dump calls emit with every key of the store.
	Dump(ctx context.Context, emit func(store.DumpedKey) error) error
}

// Source is what a backup copies. Set SQLite or Keys, as Backend says.
type Source struct {
	Backend  string
	Identity store.Identity
	SQLite   Snapshotter
	Keys     Dumper
	// HMACKeyFile is the digest key's file; "" when the configuration
	// holds the key itself (it is then in the configuration's copy).
	HMACKeyFile string
	// UnsubscribeKeysFile is the unsubscribe key file; left out when it
	// does not exist (the gateway never made one).
	UnsubscribeKeysFile string
	// ConfigFile is the configuration file; "" with built-in defaults.
	ConfigFile string
	// Ledger copies the SQLite ledger to dst; nil when there is none.
	Ledger func(ctx context.Context, dst string) error
	// LedgerURL is the PostgreSQL ledger's URL without its password.
	LedgerURL string
	Now       time.Time
}

// Options are a backup's and a restore's settings.
type Options struct {
	Passphrase string // encrypts (backup) or opens (restore); "" for none
	// WorkFactor is the scrypt work factor (log2 N) of the passphrase; 0
	// is age's default. Tests lower it.
	WorkFactor int
}

// CreateFile writes the backup of src to path, mode 0600, refusing a path
// that exists unless force. The archive is written to a temporary file
// beside path first, so path never holds half an archive.
func CreateFile(ctx context.Context, path string, force bool, src Source, o Options) (Manifest, error) {
	if _, err := os.Lstat(path); err == nil && !force {
		return Manifest{}, fmt.Errorf("%s exists: give another name, or --force to replace it", path)
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return Manifest{}, err
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	m, err := Create(ctx, src, f, o)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return Manifest{}, err
	}
	if force {
		return m, os.Rename(tmp, path)
	}
	// A link fails when path appeared meanwhile: never over a file.
	if err := os.Link(tmp, path); err != nil {
		return Manifest{}, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

// Create writes the backup of src to w and returns its manifest.
func Create(ctx context.Context, src Source, w io.Writer, o Options) (Manifest, error) {
	dir, err := os.MkdirTemp("", "dncgate-backup-*")
	if err != nil {
		return Manifest{}, err
	}
	defer os.RemoveAll(dir)
	m := Manifest{
		Created: src.Now.UTC(), Backend: src.Backend, Counts: map[string]int64{},
		Identity: Identity{ID: src.Identity.ID, CreatedAt: src.Identity.CreatedAt, KeyFingerprint: src.Identity.KeyFingerprint, LinksSent: src.Identity.LinksSent},
	}
	names, err := snapshotStore(ctx, src, dir, m.Counts)
	if err != nil {
		return Manifest{}, err
	}
	files, err := copyFiles(src, dir)
	if err != nil {
		return Manifest{}, err
	}
	names = append(names, files...)
	switch {
	case src.Ledger != nil:
		m.Ledger = LedgerSQLite
		if err := src.Ledger(ctx, partPath(dir, PartLedger)); err != nil {
			return Manifest{}, fmt.Errorf("copying the ledger: %w", err)
		}
		names = append(names, PartLedger)
	case src.LedgerURL != "":
		m.Ledger, m.LedgerURL = LedgerPostgres, src.LedgerURL
	default:
		m.Ledger = LedgerNone
	}
	err = write(w, &m, dir, names, o.Passphrase, o.WorkFactor)
	return m, err
}

func partPath(dir, name string) string {
	p := filepath.Join(dir, filepath.FromSlash(name))
	os.MkdirAll(filepath.Dir(p), 0o700)
	return p
}

func snapshotStore(ctx context.Context, src Source, dir string, counts map[string]int64) ([]string, error) {
	switch src.Backend {
	case BackendEmbedded:
		c, err := src.SQLite.Snapshot(ctx, partPath(dir, PartEmbedded))
		if err != nil {
			return nil, err
		}
		for t, n := range c {
			counts["table:"+t] = n
		}
		return []string{PartEmbedded}, nil
	case BackendRedis:
		f, err := os.OpenFile(partPath(dir, PartRedis), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		kw := newKeyWriter(f)
		if err := src.Keys.Dump(ctx, kw.write); err != nil {
			return nil, err
		}
		if err := kw.flush(); err != nil {
			return nil, err
		}
		for k, n := range kw.counts {
			counts[k] = n
		}
		return []string{PartRedis}, f.Close()
	}
	return nil, fmt.Errorf("unknown store backend %q", src.Backend)
}

// copyFiles copies the key files and the configuration into dir.
func copyFiles(src Source, dir string) ([]string, error) {
	var names []string
	for _, p := range []struct {
		name, path string
		optional   bool
	}{
		{PartHMACKey, src.HMACKeyFile, false},
		{PartUnsubscribeKeys, src.UnsubscribeKeysFile, true},
		{PartConfig, src.ConfigFile, false},
	} {
		if p.path == "" {
			continue
		}
		err := copyFile(p.path, partPath(dir, p.name))
		if errors.Is(err, fs.ErrNotExist) && p.optional {
			continue
		}
		if err != nil {
			return nil, err
		}
		names = append(names, p.name)
	}
	return names, nil
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
