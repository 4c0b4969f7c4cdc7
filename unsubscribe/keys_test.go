package unsubscribe

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dncgate/dncgate/unsubscribe/token"
)

const (
	secretA = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
	secretB = "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f"
)

func TestLoadKeyringCreatesOneKey(t *testing.T) {
	path := filepath.Join(t.TempDir(), "unsubscribe.keys")
	kr, err := LoadKeyring(path, true)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("keys file %v, mode %v; want 0600", err, fi.Mode())
	}
	b, _ := os.ReadFile(path)
	if lines := strings.Split(strings.TrimSpace(string(b)), "\n"); len(lines) != 1 || !strings.HasPrefix(lines[0], "1 ") {
		t.Errorf("new file holds %q, want one line \"1 SECRET\"", b)
	}
	// A second load reads the same key: tokens survive a restart.
	again, err := LoadKeyring(path, true)
	if err != nil {
		t.Fatal(err)
	}
	tok := kr.Seal("a@example.net", "acme", time.Unix(1e9, 0))
	if c, err := again.Open(tok); err != nil || c.Recipient != "a@example.net" {
		t.Errorf("reloaded keyring opens %+v, %v", c, err)
	}
}

func TestLoadKeyringMissingWithoutCreate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "none.keys")
	if _, err := LoadKeyring(path, false); err == nil {
		t.Fatal("a missing file loaded")
	}
	if _, err := os.Stat(path); err == nil {
		t.Error("the file was created without create")
	}
}

// The first line seals; the others still open what they sealed.
func TestLoadKeyringRotation(t *testing.T) {
	dir := t.TempDir()
	oldPath, newPath := filepath.Join(dir, "old.keys"), filepath.Join(dir, "new.keys")
	os.WriteFile(oldPath, []byte("7 "+secretA+"\n"), 0o600)
	os.WriteFile(newPath, []byte("# rotated\n8 "+secretB+"\n\n7 "+secretA+"\n"), 0o600)
	oldKR, err := LoadKeyring(oldPath, false)
	if err != nil {
		t.Fatal(err)
	}
	newKR, err := LoadKeyring(newPath, false)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(2e9, 0)
	if _, err := newKR.Open(oldKR.Seal("x@example.net", "acme", now)); err != nil {
		t.Errorf("the rotated keyring does not open an old token: %v", err)
	}
	if _, err := oldKR.Open(newKR.Seal("x@example.net", "acme", now)); err != token.ErrInvalid {
		t.Errorf("the old keyring opened a token of the new key: %v", err)
	}
}

func TestLoadKeyringErrorsNameTheLine(t *testing.T) {
	for name, c := range map[string]struct{ text, want string }{
		"no id":     {secretA + "\n", ":1: want \"ID SECRET\""},
		"big id":    {"# c\n300 " + secretA + "\n", ":2: want"},
		"short":     {"1 abcd\n", ":1: token: key 1: secret is 2 bytes"},
		"duplicate": {"1 " + secretA + "\n1 " + secretB + "\n", "appears twice"},
		"empty":     {"# nothing\n", "no key"},
	} {
		path := filepath.Join(t.TempDir(), "k")
		os.WriteFile(path, []byte(c.text), 0o600)
		_, err := LoadKeyring(path, true)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err %v, want %q", name, err, c.want)
		}
		if err != nil && (strings.Contains(err.Error(), secretA) || strings.Contains(err.Error(), secretB)) {
			t.Errorf("%s: the error shows the secret", name)
		}
	}
}
