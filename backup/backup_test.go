package backup

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dncgate/dncgate/store"
	"github.com/dncgate/dncgate/store/embedded"
)

// testWorkFactor keeps scrypt cheap in tests.
const testWorkFactor = 10

// source is a real embedded store with a user and a digest key file.
func source(t *testing.T) (Source, []byte) {
	t.Helper()
	dir := t.TempDir()
	st, err := embedded.Open(filepath.Join(dir, "dncgate.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	key := make([]byte, 32)
	rand.Read(key)
	keyFile := filepath.Join(dir, "hmac.key")
	if err := os.WriteFile(keyFile, []byte(hex.EncodeToString(key)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	id, _ := store.NewIdentity(key, time.Now())
	if err := st.CreateIdentity(ctx, id, false); err != nil {
		t.Fatal(err)
	}
	if err := st.AddUser(ctx, store.User{Email: "rep@acme.test", Role: store.RoleRep, PasswordHash: []byte("x")}); err != nil {
		t.Fatal(err)
	}
	return Source{Backend: BackendEmbedded, Identity: id, SQLite: st, HMACKeyFile: keyFile, Now: time.Now()}, key
}

func archive(t *testing.T, passphrase string) []byte {
	t.Helper()
	src, _ := source(t)
	var b bytes.Buffer
	if _, err := Create(context.Background(), src, &b, Options{Passphrase: passphrase, WorkFactor: testWorkFactor}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// target is an empty data folder but for a file that must survive a
// refused restore.
func target(t *testing.T) (Target, string) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "keep"), []byte("keep"), 0o600)
	return Target{
		Backend:       BackendEmbedded,
		Identity:      func(context.Context) (store.Identity, error) { return store.Identity{}, store.ErrNoIdentity },
		Empty:         func(context.Context) (bool, error) { return true, nil },
		StorePath:     filepath.Join(dir, "dncgate.db"),
		InstallSQLite: embedded.Install,
		HMACKeyFile:   filepath.Join(dir, "hmac.key"),
	}, dir
}

func listing(t *testing.T, dir string) string {
	t.Helper()
	var names []string
	filepath.Walk(dir, func(p string, _ os.FileInfo, _ error) error { names = append(names, p); return nil })
	return strings.Join(names, "\n")
}

func restoreBytes(t *testing.T, b []byte, passphrase string) (Result, error, string) {
	t.Helper()
	p := filepath.Join(t.TempDir(), "a.bak")
	os.WriteFile(p, b, 0o600)
	tg, dir := target(t)
	before := listing(t, dir)
	res, err := RestoreFile(context.Background(), p, tg, Options{Passphrase: passphrase})
	if err != nil {
		if after := listing(t, dir); after != before {
			t.Errorf("a failed restore wrote:\n%s\nwas:\n%s", after, before)
		}
	}
	return res, err, dir
}

func TestRoundTrip(t *testing.T) {
	for _, pass := range []string{"", "correct horse"} {
		res, err, dir := restoreBytes(t, archive(t, pass), pass)
		if err != nil {
			t.Fatalf("passphrase %q: %v", pass, err)
		}
		if res.Manifest.Counts["table:users"] != 1 || len(res.Written) != 2 {
			t.Errorf("passphrase %q: %+v", pass, res)
		}
		st, err := embedded.Open(filepath.Join(dir, "dncgate.db"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.User(context.Background(), "rep@acme.test"); err != nil {
			t.Errorf("restored store: %v", err)
		}
		st.Close()
	}
}

// Every bad archive is refused with an error naming what is wrong, and
// nothing is written (restoreBytes checks the target folder).
func TestBadArchives(t *testing.T) {
	plain, sealed := archive(t, ""), archive(t, "correct horse")
	flip := func(b []byte, at int) []byte {
		c := bytes.Clone(b)
		c[at] ^= 0x40
		return c
	}
	for _, c := range []struct {
		name, pass string
		data       []byte
		want       error
		text       string
	}{
		{"truncated", "", plain[:len(plain)/2], ErrTruncated, "truncated"},
		{"truncated end", "", plain[:len(plain)-3], ErrTruncated, "truncated"},
		{"truncated encrypted", "correct horse", sealed[:len(sealed)/2], ErrDamaged, "truncated or altered"},
		{"altered byte", "", flip(plain, len(plain)/2), ErrDamaged, "damaged"},
		{"altered byte encrypted", "correct horse", flip(sealed, len(sealed)/2), ErrDamaged, "damaged"},
		{"wrong passphrase", "battery staple", sealed, ErrPassphrase, "passphrase does not open"},
		{"no passphrase", "", sealed, ErrEncrypted, "is encrypted"},
		{"not an archive", "", []byte("hello, this is no archive"), ErrDamaged, "not a dncgate backup"},
		{"format version", "", formatArchive(t, 2), ErrFormat, "format version 2, this dncgate reads version 1"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err, _ := restoreBytes(t, c.data, c.pass)
			if !errors.Is(err, c.want) || !strings.Contains(err.Error(), c.text) || !strings.Contains(err.Error(), "nothing was written") {
				t.Errorf("err = %v, want %v naming %q", err, c.want, c.text)
			}
		})
	}
}

// formatArchive is an archive whose manifest has format version v.
func formatArchive(t *testing.T, v int) []byte {
	var b bytes.Buffer
	gz := gzip.NewWriter(&b)
	tw := tar.NewWriter(gz)
	man := []byte(`{"format":` + string(rune('0'+v)) + `}`)
	if err := writeEntry(tw, manifestName, bytes.NewReader(man), int64(len(man)), time.Now()); err != nil {
		t.Fatal(err)
	}
	tw.Close()
	gz.Close()
	return b.Bytes()
}

// A target of another identity, or holding data without one, is refused
// unless Force; so is a digest key file that differs.
func TestTargetChecks(t *testing.T) {
	data := archive(t, "")
	p := filepath.Join(t.TempDir(), "a.bak")
	os.WriteFile(p, data, 0o600)
	other := func(context.Context) (store.Identity, error) { return store.Identity{ID: "other"}, nil }
	for _, c := range []struct {
		name  string
		edit  func(*Target)
		force bool
		want  string
	}{
		{"other identity", func(tg *Target) { tg.Identity = other }, false, "the target store is other"},
		{"data without identity", func(tg *Target) { tg.Empty = func(context.Context) (bool, error) { return false, nil } }, false, "holds data but no identity"},
		{"other key", func(tg *Target) { tg.ConfiguredKey = bytes.Repeat([]byte{1}, 32) }, false, "differs from the archive's"},
		{"redis config", func(tg *Target) { tg.Backend = BackendRedis }, false, "holds a embedded store and the configuration names a redis store"},
		{"other identity forced", func(tg *Target) { tg.Identity = other }, true, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			tg, _ := target(t)
			c.edit(&tg)
			tg.Force = c.force
			_, err := RestoreFile(context.Background(), p, tg, Options{})
			switch {
			case c.want == "" && err != nil:
				t.Fatal(err)
			case c.want != "" && (!errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), c.want)):
				t.Fatalf("err = %v, want a refusal naming %q", err, c.want)
			}
			if _, serr := os.Stat(tg.StorePath); (serr == nil) != (c.want == "") {
				t.Errorf("store written: %v, want %v", serr == nil, c.want == "")
			}
		})
	}
}

// CreateFile refuses a file that exists unless forced, and writes 0600.
func TestCreateFile(t *testing.T) {
	src, _ := source(t)
	p := filepath.Join(t.TempDir(), "a.bak")
	os.WriteFile(p, []byte("old"), 0o644)
	if _, err := CreateFile(context.Background(), p, false, src, Options{}); err == nil || !strings.Contains(err.Error(), "--force") {
		t.Fatalf("err = %v", err)
	}
	if b, _ := os.ReadFile(p); string(b) != "old" {
		t.Fatal("the refused backup replaced the file")
	}
	if _, err := CreateFile(context.Background(), p, true, src, Options{}); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(p); fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v", fi.Mode())
	}
}
