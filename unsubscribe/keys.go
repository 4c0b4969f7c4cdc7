package unsubscribe

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/dncgate/dncgate/unsubscribe/token"
)

const (
	// newKeyID names the key a new file starts with; rotation adds ids.
	newKeyID = 1
	// keysFileMode keeps the secrets from other users of the machine.
	keysFileMode = 0o600
)

// LoadKeyring reads the token keys at path: one key a line, "ID SECRET",
// ID a number 0-255 and SECRET hex or base64 (token.ParseKey); blank lines
// and lines starting with '#' are skipped. The first key seals new tokens,
// every key opens them, so a rotation puts the new key on top and keeps the
// old one until the links it sealed expire.
//
// With create, a missing file is created (mode 0600) holding one random
// key. Two processes creating it at once both end up with the one that was
// written first.
func LoadKeyring(path string, create bool) (*token.Keyring, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) && create {
		if err := createKeys(path); err != nil {
			return nil, err
		}
		b, err = os.ReadFile(path)
	}
	if err != nil {
		return nil, fmt.Errorf("unsubscribe keys: %w", err)
	}
	keys, err := parseKeys(path, b)
	if err != nil {
		return nil, err
	}
	kr, err := token.NewKeyring(keys[0], keys[1:]...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return kr, nil
}

// parseKeys reads every key, naming the line of a bad one. Secrets never
// appear in errors.
func parseKeys(path string, b []byte) ([]token.Key, error) {
	var keys []token.Key
	sc := bufio.NewScanner(bytes.NewReader(b))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		idText, secret, ok := strings.Cut(line, " ")
		id, err := strconv.ParseUint(idText, 10, 8)
		if !ok || err != nil {
			return nil, fmt.Errorf("%s:%d: want \"ID SECRET\" with ID a number 0-255", path, n)
		}
		k, err := token.ParseKey(byte(id), secret)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, n, err)
		}
		keys = append(keys, k)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("%s: no key", path)
	}
	return keys, nil
}

// createKeys writes a file with one new key. It is written aside and then
// linked into place, which fails when the file exists: a concurrent creator
// never sees a half-written file nor overwrites a key already handed out.
func createKeys(path string) error {
	secret := make([]byte, token.MinSecretLen)
	rand.Read(secret) // never fails (crypto/rand, Go 1.24+)
	f, err := os.CreateTemp(filepath.Dir(path), ".unsubscribe-keys-*")
	if err != nil {
		return fmt.Errorf("unsubscribe keys: %w", err)
	}
	defer os.Remove(f.Name())
	_, werr := fmt.Fprintf(f, "%d %s\n", newKeyID, hex.EncodeToString(secret))
	if err := errors.Join(werr, f.Chmod(keysFileMode), f.Sync(), f.Close()); err != nil {
		return fmt.Errorf("unsubscribe keys: writing %s: %w", path, err)
	}
	if err := os.Link(f.Name(), path); err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("unsubscribe keys: %w", err)
	}
	return nil
}
