package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/dncgate/dncgate/backup"
	"github.com/dncgate/dncgate/config"
	"github.com/dncgate/dncgate/ledger"
	"github.com/dncgate/dncgate/store"
	"github.com/dncgate/dncgate/store/embedded"
	"github.com/dncgate/dncgate/store/redisstore"
)

// passphraseEnv holds a backup's passphrase when no file is given.
const passphraseEnv = "DNCGATE_BACKUP_PASSPHRASE"

// backupCmd holds what backup and restore parse.
type backupCmd struct {
	common
	fs             *flagSet
	force          bool
	passphraseFile string
	workFactor     int // tests lower the scrypt cost
}

func (a *app) newBackupCmd(name, summary, force string) *backupCmd {
	b := &backupCmd{fs: a.newFlags("dncgate "+name, "FILE", summary)}
	b.register(b.fs)
	b.fs.BoolVar(&b.force, "force", false, force)
	b.fs.StringVar(&b.passphraseFile, "passphrase-file", "", "read the passphrase from the first line of `FILE` (default: $"+passphraseEnv+"; none: not encrypted)")
	return b
}

// passphrase is the first line of --passphrase-file, else the variable.
func (b *backupCmd) passphrase() (string, error) {
	if b.passphraseFile == "" {
		getenv := b.lookup.getenv
		if getenv == nil {
			getenv = os.Getenv
		}
		return getenv(passphraseEnv), nil
	}
	raw, err := os.ReadFile(b.passphraseFile)
	if err != nil {
		return "", fmt.Errorf("--passphrase-file: %w", err)
	}
	line, _, _ := strings.Cut(string(raw), "\n")
	if line = strings.TrimRight(line, "\r"); line == "" {
		return "", fmt.Errorf("--passphrase-file: %s: the first line is empty", b.passphraseFile)
	}
	return line, nil
}

func (a *app) backup(ctx context.Context, args []string) error {
	b := a.newBackupCmd("backup", "Write one archive of everything a restore needs: the store, the digest key,\n"+
		"the unsubscribe keys, the SQLite ledger and the configuration, with a manifest\n"+
		"of checksums. Runs beside a running gateway. Encrypted when a passphrase is given.",
		"replace FILE when it exists")
	pos, err := b.fs.parse(args, 1, 1)
	if err != nil {
		return err
	}
	pass, err := b.passphrase()
	if err != nil {
		return err
	}
	cfgPath, err := b.lookup.find(b.config)
	if err != nil {
		return err
	}
	return b.withConfigStore(ctx, func(cfg *config.Config, st backend) error {
		src, err := backupSource(ctx, cfg, cfgPath, st)
		if err != nil {
			return err
		}
		m, err := backup.CreateFile(ctx, pos[0], b.force, src, backup.Options{Passphrase: pass, WorkFactor: b.workFactor})
		if errors.Is(err, redisstore.ErrChanged) {
			return fmt.Errorf("backup of %s: %w; nothing was written", where(cfg), err)
		}
		if err != nil {
			return err
		}
		a.printManifest(pos[0], m, pass != "")
		return recordAudit(ctx, cfg, archiveEvent(ledger.ActBackup, pos[0], m, pass != ""))
	})
}

// archiveEvent is the audit trail's record of a backup or a restore: the
// archive's name and SHA-256 (so a restore can be traced to the backup
// that wrote it), the store it holds and whether it is encrypted.
func archiveEvent(act ledger.Action, path string, m backup.Manifest, encrypted bool) ledger.AuditEvent {
	d := map[string]string{"archive": filepath.Base(path), "backend": m.Backend, "store": m.Identity.ID,
		"created": m.Created.UTC().Format(time.RFC3339), "ledger": m.Ledger, "encrypted": strconv.FormatBool(encrypted)}
	if f, err := backup.Checksum(path); err == nil {
		d["sha256"] = f.SHA256
	}
	return ledger.AuditEvent{Actor: operator(""), Action: act, Object: m.Identity.ID, Details: d}
}

// backupSource says what the backup of cfg's store copies.
func backupSource(ctx context.Context, cfg *config.Config, cfgPath string, st backend) (backup.Source, error) {
	id, err := st.Identity(ctx)
	if err != nil {
		return backup.Source{}, err
	}
	src := backup.Source{Identity: id, UnsubscribeKeysFile: cfg.UnsubscribeKeysPath(), ConfigFile: cfgPath, Now: time.Now()}
	switch s := st.(type) {
	case *embedded.Store:
		src.Backend, src.SQLite = backup.BackendEmbedded, s
	case *redisstore.Store:
		src.Backend, src.Keys = backup.BackendRedis, s
	}
	if cfg.HMACKeyIsOwn() {
		src.HMACKeyFile = cfg.HMACKeyPath()
	} else if cfg.Privacy.HMACKeyFile != "" {
		src.HMACKeyFile = cfg.Privacy.HMACKeyFile
	}
	if cfg.Ledger.URL != "" {
		src.LedgerURL = cfg.LedgerURLMasked()
	} else if _, err := os.Stat(cfg.LedgerPath()); err == nil {
		src.Ledger = func(ctx context.Context, dst string) error { return embedded.SnapshotFile(ctx, cfg.LedgerPath(), dst) }
	}
	return src, nil
}

func (a *app) printManifest(path string, m backup.Manifest, encrypted bool) {
	enc := "not encrypted"
	if encrypted {
		enc = "encrypted (age, scrypt)"
	}
	fmt.Fprintf(a.stdout, "wrote %s: format %d, %s store %s, created %s, %s\n", path, m.Format, m.Backend, m.Identity.ID, m.Created.Format(time.RFC3339), enc)
	for _, f := range m.Files {
		fmt.Fprintf(a.stdout, "  %-22s %10d bytes  sha256 %s\n", f.Name, f.Size, f.SHA256)
	}
	kinds := make([]string, 0, len(m.Counts))
	for k := range m.Counts {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	for _, k := range kinds {
		fmt.Fprintf(a.stdout, "  %-32s %d\n", k, m.Counts[k])
	}
	if m.Ledger == backup.LedgerPostgres {
		fmt.Fprintf(a.stdout, "the ledger is in PostgreSQL (%s) and not in the archive: back it up with pg_dump\n", m.LedgerURL)
	}
}

func (a *app) restore(ctx context.Context, args []string) error {
	b := a.newBackupCmd("restore", "Check an archive whole (checksums, format, passphrase) and the target store's\n"+
		"identity, then put the store, the keys and the SQLite ledger back. The archive's\n"+
		"configuration is written beside the one in use as FILE.restored when it differs.\n"+
		"Refused while dncgate serve runs on this data folder.",
		"restore onto a store of another identity, or over key files that differ")
	pos, err := b.fs.parse(args, 1, 1)
	if err != nil {
		return err
	}
	pass, err := b.passphrase()
	if err != nil {
		return err
	}
	cfgPath, err := b.lookup.find(b.config)
	if err != nil {
		return err
	}
	cfg, err := b.load()
	if err != nil {
		return err
	}
	unlock, err := embedded.LockRestore(serveLockPath(cfg))
	if errors.Is(err, embedded.ErrServing) {
		return fmt.Errorf("dncgate serve is running on %s: stop it before restoring; nothing was written", cfg.Server.DataDir)
	}
	if err != nil {
		return err
	}
	defer unlock()
	t, closeTarget, err := restoreTarget(ctx, cfg, cfgPath, b.force)
	if err != nil {
		return err
	}
	defer closeTarget()
	res, err := backup.RestoreFile(ctx, pos[0], t, backup.Options{Passphrase: pass})
	if err != nil {
		return err
	}
	a.printRestore(pos[0], res)
	// Into the ledger just put back: the restore is its newest event.
	e := archiveEvent(ledger.ActRestore, pos[0], res.Manifest, pass != "")
	e.Details["force"] = strconv.FormatBool(b.force)
	return recordAudit(ctx, cfg, e)
}

// serveLockPath is the lock serve holds in its data folder.
func serveLockPath(cfg *config.Config) string { return filepath.Join(cfg.Server.DataDir, "serve.lock") }

// restoreTarget says where a restore writes, from cfg.
func restoreTarget(ctx context.Context, cfg *config.Config, cfgPath string, force bool) (backup.Target, func(), error) {
	t := backup.Target{UnsubscribeKeysFile: cfg.UnsubscribeKeysPath(), ConfigFile: cfgPath, Force: force, InstallSQLite: embedded.Install}
	if cfg.Ledger.URL == "" {
		t.LedgerPath = cfg.LedgerPath()
	}
	if cfg.HMACKeyIsOwn() {
		t.HMACKeyFile = cfg.HMACKeyPath()
	} else if cfg.Privacy.HMACKeyFile != "" {
		t.HMACKeyFile = cfg.Privacy.HMACKeyFile
	}
	if key, err := cfg.HMACKey(); err == nil {
		t.ConfiguredKey = key
	}
	if cfg.Store.Backend == config.BackendEmbedded {
		return embeddedTarget(cfg, t)
	}
	st, err := openOrMakeStore(ctx, cfg)
	if err != nil {
		return t, nil, err
	}
	rs := st.(*redisstore.Store)
	t.Backend, t.Keys, t.Identity, t.Empty = backup.BackendRedis, rs, rs.Identity, rs.Empty
	return t, func() { st.Close() }, nil
}

// embeddedTarget reads the embedded store's identity, when there is a
// store, without creating one.
func embeddedTarget(cfg *config.Config, t backup.Target) (backup.Target, func(), error) {
	t.Backend, t.StorePath = backup.BackendEmbedded, cfg.StorePath()
	t.Identity = func(ctx context.Context) (store.Identity, error) { return store.Identity{}, store.ErrNoIdentity }
	t.Empty = func(context.Context) (bool, error) { return true, nil }
	if _, err := os.Stat(t.StorePath); errors.Is(err, fs.ErrNotExist) {
		return t, func() {}, nil
	}
	st, err := embedded.Open(t.StorePath)
	if err != nil {
		return t, nil, err
	}
	t.Identity = st.Identity
	t.Empty = func(ctx context.Context) (bool, error) {
		used, err := holdsData(ctx, st)
		return !used, err
	}
	// The store is closed before its copy is renamed over its file.
	var once sync.Once
	closeStore := func() (err error) {
		once.Do(func() { err = st.Close() })
		return err
	}
	t.InstallSQLite = func(src, dst string) error {
		if dst == t.StorePath {
			if err := closeStore(); err != nil {
				return err
			}
		}
		return embedded.Install(src, dst)
	}
	return t, func() { closeStore() }, nil
}

func (a *app) printRestore(path string, r backup.Result) {
	m := r.Manifest
	fmt.Fprintf(a.stdout, "restored %s: %s store %s, backed up %s\n", path, m.Backend, m.Identity.ID, m.Created.Format(time.RFC3339))
	if r.Keys > 0 {
		fmt.Fprintf(a.stdout, "  %d Redis keys written\n", r.Keys)
	}
	for _, w := range r.Written {
		fmt.Fprintf(a.stdout, "  wrote %s\n", w)
	}
	if r.ConfigCopy != "" {
		fmt.Fprintf(a.stdout, "the archive's configuration differs from the one in use: it is in %s; compare them before the next serve\n", r.ConfigCopy)
	}
	if m.Ledger == backup.LedgerPostgres {
		fmt.Fprintf(a.stdout, "the ledger was in PostgreSQL (%s): restore it from its pg_dump\n", m.LedgerURL)
	}
}
