package config

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func TestSizeText(t *testing.T) {
	cases := []struct {
		in   string
		want Size
		out  string
	}{
		{"0", 0, "0"},
		{"1048576", MiB, "1MiB"},
		{"25MB", 25 * MB, "25MB"},
		{"25 mb", 25 * MB, "25MB"},
		{"512KiB", 512 * KiB, "512KiB"},
		{"1000B", KB, "1KB"},
		{"1023", 1023, "1023"},
		{"3GiB", 3 * GiB, "3GiB"},
	}
	for _, c := range cases {
		var s Size
		if err := s.UnmarshalText([]byte(c.in)); err != nil || s != c.want {
			t.Errorf("%q: got %d, %v; want %d", c.in, s, err, c.want)
			continue
		}
		if got := s.String(); got != c.out {
			t.Errorf("%q: String() = %q, want %q", c.in, got, c.out)
		}
	}
	for _, bad := range []string{"", "MB", "-1", "1.5MB", "25 megabytes", "10XB", "9999999999999GiB"} {
		var s Size
		if err := s.UnmarshalText([]byte(bad)); err == nil {
			t.Errorf("%q: accepted as %d", bad, s)
		}
	}
}

func TestDurationText(t *testing.T) {
	cases := []struct {
		in  string
		out string
	}{
		{"30s", "30s"}, {"1m", "1m"}, {"90m", "1h30m"}, {"72h", "3d"}, {"7d", "7d"}, {"2w", "14d"}, {"1d12h", "36h"}, {"500ms", "500ms"}, {"0s", "0s"}, {"1m30s", "1m30s"},
	}
	for _, c := range cases {
		var d Duration
		if err := d.UnmarshalText([]byte(c.in)); err != nil {
			t.Errorf("%q: %v", c.in, err)
			continue
		}
		if got := d.String(); got != c.out {
			t.Errorf("%q: String() = %q, want %q", c.in, got, c.out)
		}
	}
	for _, bad := range []string{"", "5", "5 minutes", "-1s", "1x", "1.5d"} {
		var d Duration
		if err := d.UnmarshalText([]byte(bad)); err == nil {
			t.Errorf("%q: accepted as %v", bad, d)
		}
	}
}

func TestParseHMACKey(t *testing.T) {
	raw := bytes.Repeat([]byte{0xA5, 0x01, 0xFF}, 11) // 33 bytes
	good := map[string]string{
		"hex":            hex.EncodeToString(raw),
		"base64":         base64.StdEncoding.EncodeToString(raw[:32]),
		"base64 raw url": base64.RawURLEncoding.EncodeToString(raw[:32]),
		"surrounded":     "  " + hex.EncodeToString(raw) + "\n",
	}
	for name, s := range good {
		k, err := ParseHMACKey(s)
		if err != nil || !bytes.HasPrefix(raw, k) || len(k) < MinHMACKeyLen {
			t.Errorf("%s: got %x, %v", name, k, err)
		}
	}
	bad := map[string]string{
		"short hex":    hex.EncodeToString(raw[:31]),
		"short base64": base64.StdEncoding.EncodeToString(raw[:20]),
		"neither":      "this is not a key, it is a sentence!",
		"empty":        "",
	}
	for name, s := range bad {
		if k, err := ParseHMACKey(s); err == nil {
			t.Errorf("%s: accepted as %x", name, k)
		} else if s != "" && strings.Contains(err.Error(), s) {
			t.Errorf("%s: the error repeats the key: %v", name, err)
		}
	}
}

// The embedded store's key is created once, 0600, and read back after.
func TestHMACKeyCreatedOnce(t *testing.T) {
	c := Default()
	c.Server.DataDir = filepath.Join(t.TempDir(), "data")
	first, err := c.CreateHMACKey()
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(c.Server.DataDir, "hmac.key"))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("hmac.key mode %v, want 0600", fi.Mode().Perm())
	}
	second, err := c.HMACKey()
	if err != nil || !bytes.Equal(first, second) || len(first) != MinHMACKeyLen {
		t.Errorf("second read %x (%v), first %x", second, err, first)
	}
}

// A missing key file is an error naming it, and reading creates nothing.
func TestHMACKeyMissingIsNotCreated(t *testing.T) {
	c := Default()
	c.Server.DataDir = t.TempDir()
	path := filepath.Join(c.Server.DataDir, "hmac.key")
	_, err := c.HMACKey()
	if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "restore") {
		t.Fatalf("HMACKey without the file: %v, want an error naming %s", err, path)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("HMACKey created %s (%v)", path, err)
	}
}

// Processes starting together on a fresh folder all end up with one key.
func TestHMACKeyConcurrentCreation(t *testing.T) {
	c := Default()
	c.Server.DataDir = t.TempDir()
	keys := make([][]byte, 8)
	var wg sync.WaitGroup
	for i := range keys {
		wg.Add(1)
		go func() {
			defer wg.Done()
			k, err := c.CreateHMACKey()
			if err != nil {
				t.Error(err)
			}
			keys[i] = k
		}()
	}
	wg.Wait()
	for i := range keys {
		if !bytes.Equal(keys[i], keys[0]) {
			t.Fatalf("callers got different keys: %x vs %x", keys[i], keys[0])
		}
	}
	left, _ := filepath.Glob(filepath.Join(c.Server.DataDir, ".hmac-*"))
	if len(left) != 0 {
		t.Errorf("temporary files left behind: %v", left)
	}
}

func TestHMACKeySources(t *testing.T) {
	key := strings.Repeat("ab", 32)
	file := filepath.Join(t.TempDir(), "hmac.key")
	os.WriteFile(file, []byte(key+"\n"), 0o600)

	c := Default()
	c.Privacy.HMACKeyFile = file
	if k, err := c.HMACKey(); err != nil || hex.EncodeToString(k) != key {
		t.Errorf("from file: %x, %v", k, err)
	}
	c = Default()
	c.Store.Backend = BackendRedis
	if _, err := c.HMACKey(); err == nil {
		t.Errorf("redis without a key: no error")
	}
	c.Privacy.HMACKey = key
	if k, err := c.HMACKey(); err != nil || hex.EncodeToString(k) != key {
		t.Errorf("inline: %x, %v", k, err)
	}
}

func TestUpstreamURLs(t *testing.T) {
	good := []string{
		"smtp://mail.example.com",
		"smtp://127.0.0.1:2525",
		"smtp+starttls://user%40acme.example:p%2Fss@mail.example.com:587",
		"smtps://[2001:db8::1]:465",
		"outbox:./dncgate-data/outbox",
		"outbox:/var/spool/dncgate",
		"OUTBOX:/var/spool/dncgate",
		"SMTP://mail.example.com",
		"smtp://user:pass@127.0.0.1:2525",
	}
	for _, u := range good {
		if err := checkUpstreamURL(u); err != nil {
			t.Errorf("%q: %v", u, err)
		}
	}
	bad := []string{
		"mail.example.com:25", "smtpz://mail.example.com", "http://mail.example.com",
		"smtp://", "smtp://mail.example.com:0", "smtp://mail.example.com:99999",
		"smtp://mail.example.com/path", "smtp://:secret@mail.example.com", "outbox:",
		"outbox:///var/spool", "smtps://user@mail.example.com", "smtp://user:secret@mail.example.com",
	}
	for _, u := range bad {
		if err := checkUpstreamURL(u); err == nil {
			t.Errorf("%q: accepted", u)
		} else if strings.Contains(err.Error(), "secret") {
			t.Errorf("%q: the error repeats the password: %v", u, err)
		}
	}
}

func TestTrustedNetwork(t *testing.T) {
	cases := map[string]string{
		"10.20.0.0/24":  "10.20.0.0/24",
		"10.20.0.7":     "10.20.0.7/32",
		"2001:db8::/32": "2001:db8::/32",
		"::1":           "::1/128",
	}
	for in, want := range cases {
		if p, err := TrustedNetwork(in); err != nil || p.String() != want {
			t.Errorf("%q: %v, %v; want %s", in, p, err, want)
		}
	}
	for _, bad := range []string{"", "10.20.0.0/33", "10.20.0.1/24", "example.com", "10.20.0.0/"} {
		if p, err := TrustedNetwork(bad); err == nil {
			t.Errorf("%q: accepted as %v", bad, p)
		}
	}
}

func TestScanLines(t *testing.T) {
	text := `# comment
top = 1
[a]
x = """
y = not a key
"""
list = [
  "z = not a key either",
]
"quoted.key" = 2
dotted.inner = 3
[[arr]]
k = 1
  [[arr.sub]]
  s = 1
  [[arr.sub]]
  s = 2
[[arr]]
k = 2 # comment = here
`
	want := map[string]int{
		"top": 2, "a": 3, "a.x": 4, "a.list": 7, `a."quoted.key"`: 10, "a.dotted.inner": 11,
		"arr": 12, "arr[0]": 12, "arr[0].k": 13, "arr[0].sub[0]": 14, "arr[0].sub[0].s": 15,
		"arr[0].sub[1].s": 17, "arr[1]": 18, "arr[1].k": 19,
	}
	got := scanLines(text)
	for k, n := range want {
		if got[k] != n {
			t.Errorf("%s: line %d, want %d", k, got[k], n)
		}
	}
	for _, k := range []string{"a.y", "y", "a.\"z"} {
		if _, ok := got[k]; ok {
			t.Errorf("%s recorded from inside a multi-line value", k)
		}
	}
}
