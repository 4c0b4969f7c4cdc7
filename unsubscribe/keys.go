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

// orgPrefix starts a line of the key file naming an organisation.
const orgPrefix = "org "

// Keys is what the key file holds: the keyring, and the organisation
// tokens are sealed to, fixed when the file was created so that renaming
// the server breaks no link already sent.
type Keys struct {
	Ring *token.Keyring
	// Org seals new tokens: the file's first "org" line, else (a file
	// written before it held one) the organisation given to LoadKeys.
	Org string
	// Earlier are the organisations of the later "org" lines: tokens
	// sealed to them are still accepted.
	Earlier []string
	// Pinned reports whether Org comes from the file.
	Pinned bool
}

// LoadKeys reads the key file at path: one key a line, "ID SECRET", ID a
// number 0-255 and SECRET hex or base64 (token.ParseKey), and lines
// "org NAME"; blank lines and lines starting with '#' are skipped. The
// first key seals new tokens, every key opens them, so a rotation puts the
// new key on top and keeps the old one until the links it sealed expire.
// Likewise the first "org" line seals, and the others are still accepted.
//
// With create, a missing file is created (mode 0600) holding one random
// key and org, the configured organisation, which stays the file's from
// then on. Two processes creating it at once both end up with the one
// that was written first. org is also the organisation of a file that
// names none.
func LoadKeys(path string, create bool, org string) (Keys, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) && create {
		if err := createKeys(path, org); err != nil {
			return Keys{}, err
		}
		b, err = os.ReadFile(path)
	}
	if err != nil {
		return Keys{}, fmt.Errorf("unsubscribe keys: %w", err)
	}
	keys, orgs, err := parseKeys(path, b)
	if err != nil {
		return Keys{}, err
	}
	kr, err := token.NewKeyring(keys[0], keys[1:]...)
	if err != nil {
		return Keys{}, fmt.Errorf("%s: %w", path, err)
	}
	if len(orgs) == 0 {
		return Keys{Ring: kr, Org: org}, nil
	}
	return Keys{Ring: kr, Org: orgs[0], Earlier: orgs[1:], Pinned: true}, nil
}

// LoadKeyring is LoadKeys for the keyring alone.
func LoadKeyring(path string, create bool) (*token.Keyring, error) {
	k, err := LoadKeys(path, create, "")
	return k.Ring, err
}

// parseKeys reads every key and organisation, naming the line of a bad
// one. Secrets never appear in errors.
func parseKeys(path string, b []byte) ([]token.Key, []string, error) {
	var keys []token.Key
	var orgs []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		if org, ok := strings.CutPrefix(line, orgPrefix); ok {
			if org = strings.TrimSpace(org); org == "" {
				return nil, nil, fmt.Errorf("%s:%d: want \"org NAME\"", path, n)
			}
			orgs = append(orgs, org)
			continue
		}
		idText, secret, ok := strings.Cut(line, " ")
		id, err := strconv.ParseUint(idText, 10, 8)
		if !ok || err != nil {
			return nil, nil, fmt.Errorf("%s:%d: want \"ID SECRET\" with ID a number 0-255, or \"org NAME\"", path, n)
		}
		k, err := token.ParseKey(byte(id), secret)
		if err != nil {
			return nil, nil, fmt.Errorf("%s:%d: %w", path, n, err)
		}
		keys = append(keys, k)
	}
	if err := sc.Err(); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(keys) == 0 {
		return nil, nil, fmt.Errorf("%s: no key", path)
	}
	return keys, orgs, nil
}

// createKeys writes a file with one new key. It is written aside and then
// linked into place, which fails when the file exists: a concurrent creator
// never sees a half-written file nor overwrites a key already handed out.
func createKeys(path, org string) error {
	secret := make([]byte, token.MinSecretLen)
	rand.Read(secret) // never fails (crypto/rand, Go 1.24+)
	f, err := os.CreateTemp(filepath.Dir(path), ".unsubscribe-keys-*")
	if err != nil {
		return fmt.Errorf("unsubscribe keys: %w", err)
	}
	defer os.Remove(f.Name())
	var head string
	if org = strings.TrimSpace(org); org != "" && !strings.ContainsAny(org, "\r\n") {
		head = "# Tokens are sealed to the first org line, fixed when this file was made, so\n" +
			"# renaming the server breaks no link; the others are still accepted.\n" + orgPrefix + org + "\n"
	}
	_, werr := fmt.Fprintf(f, "%s%d %s\n", head, newKeyID, hex.EncodeToString(secret))
	if err := errors.Join(werr, f.Chmod(keysFileMode), f.Sync(), f.Close()); err != nil {
		return fmt.Errorf("unsubscribe keys: writing %s: %w", path, err)
	}
	if err := os.Link(f.Name(), path); err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("unsubscribe keys: %w", err)
	}
	return nil
}
