package config

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// MinHMACKeyLen is the shortest digest key accepted, in bytes: the key of
// HMAC-SHA-256 should be at least as long as its output (RFC 2104 §3).
const MinHMACKeyLen = 32

// ParseHMACKey decodes a key written in hex or in base64 (standard or URL
// alphabet, padded or not). Hex is tried first; its digits are also valid
// base64 and would otherwise decode to different bytes. Errors never echo
// the key.
func ParseHMACKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if b, err := hex.DecodeString(s); err == nil {
		return checkKeyLen(b)
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			return checkKeyLen(b)
		}
	}
	return nil, errors.New("the key is neither hex nor base64")
}

func checkKeyLen(b []byte) ([]byte, error) {
	if len(b) < MinHMACKeyLen {
		return nil, fmt.Errorf("the key is %d bytes; at least %d are needed (make one with: head -c 32 /dev/urandom | base64)", len(b), MinHMACKeyLen)
	}
	return b, nil
}

func (c *Config) checkPrivacy(col *collector) {
	p := c.Privacy
	switch {
	case p.HMACKey != "" && p.HMACKeyFile != "":
		col.add("privacy.hmac_key_file", "set either hmac_key or hmac_key_file, not both")
	case p.HMACKey != "":
		if _, err := ParseHMACKey(p.HMACKey); err != nil {
			col.add("privacy.hmac_key", "%v", err)
		}
	case p.HMACKeyFile != "":
		if _, err := readKeyFile(p.HMACKeyFile); err != nil {
			col.add("privacy.hmac_key_file", "%v", err)
		}
	case c.Store.Backend == BackendRedis:
		col.add("privacy.hmac_key", "required with store.backend = %q: every instance must digest addresses with the same key (or set hmac_key_file)", BackendRedis)
	}
}

// HMACKey returns the key that digests addresses in the store: hmac_key,
// else the contents of hmac_key_file, else (embedded store only) the key in
// DATA_DIR/hmac.key. A missing hmac.key is an error, never replaced: a new
// key would make every opted-out address look new. Only the commands that
// create a store make one (CreateHMACKey).
func (c *Config) HMACKey() ([]byte, error) {
	k, err := c.configuredKey()
	if k != nil || err != nil {
		return k, err
	}
	k, err = readKeyFile(c.HMACKeyPath())
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("the digest key %s is missing: the store's entries and opt-outs were digested with it, "+
			"so restore it from the backup of the store (a new key would turn every opt-out off)", c.HMACKeyPath())
	}
	return k, err
}

// CreateHMACKey is HMACKey, but creates DATA_DIR/hmac.key with a random
// key when missing. For the commands that create a store.
func (c *Config) CreateHMACKey() ([]byte, error) {
	k, err := c.configuredKey()
	if k != nil || err != nil {
		return k, err
	}
	return loadOrCreateKey(c.HMACKeyPath())
}

// configuredKey is the key the configuration holds or names; nil and no
// error for the embedded store's own key file.
func (c *Config) configuredKey() ([]byte, error) {
	p := c.Privacy
	switch {
	case p.HMACKey != "":
		return ParseHMACKey(p.HMACKey)
	case p.HMACKeyFile != "":
		return readKeyFile(p.HMACKeyFile)
	case c.Store.Backend == BackendRedis:
		return nil, errors.New("privacy.hmac_key or privacy.hmac_key_file is required with the redis store")
	}
	return nil, nil
}

// HMACKeyIsOwn reports whether the digest key is the embedded store's own
// file (DATA_DIR/hmac.key) rather than one the configuration gives.
func (c *Config) HMACKeyIsOwn() bool {
	return c.Privacy.HMACKey == "" && c.Privacy.HMACKeyFile == "" && c.Store.Backend != BackendRedis
}

func readKeyFile(path string) ([]byte, error) {
	if err := readableFile(path); err != nil {
		return nil, err
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	k, err := ParseHMACKey(string(b))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return k, nil
}

// loadOrCreateKey reads the key at path or creates it. The new key is
// written to a temporary file and linked into place, so a process starting
// at the same moment reads either no file or a whole key, never half of one.
func loadOrCreateKey(path string) ([]byte, error) {
	k, err := readKeyFile(path)
	if !errors.Is(err, fs.ErrNotExist) {
		return k, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	key := make([]byte, MinHMACKeyLen)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	if err := publishFile(path, []byte(hex.EncodeToString(key)+"\n")); errors.Is(err, fs.ErrExist) {
		return readKeyFile(path)
	} else if err != nil {
		return nil, err
	}
	return key, nil
}

// publishFile creates path with data and mode 0600, failing with
// fs.ErrExist when it is already there.
func publishFile(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".hmac-*.tmp")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Link(tmp.Name(), path)
}
