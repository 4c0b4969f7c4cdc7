package e2e

import (
	"bufio"
	"context"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// makeInstall runs `make install` in the source tree with vars
// (DESTDIR=..., PREFIX=...).
func makeInstall(t *testing.T, vars ...string) string {
	t.Helper()
	if _, err := exec.LookPath("make"); err != nil {
		t.Fatal("make is not installed")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "make", append([]string{"-s", "install"}, vars...)...)
	cmd.Dir = ".."
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("make install %s: %v\n%s", strings.Join(vars, " "), err, out)
	}
	return string(out)
}

// TestMakeInstall: make install lays out the binary, a configuration that
// loads and says where the state goes, and the unit, with their modes;
// a second run keeps the configuration the administrator edited.
func TestMakeInstall(t *testing.T) {
	dest := t.TempDir()
	makeInstall(t, "DESTDIR="+dest)
	for path, mode := range map[string]fs.FileMode{
		"usr/local/bin/dncgate":                                  0o755,
		"etc/dncgate":                                            fs.ModeDir | 0o755,
		"etc/dncgate/dncgate.toml":                               0o640,
		"lib/systemd/system/dncgate.service":                     0o644,
		"usr/local/share/man/man1/dncgate.1.gz":                  0o644,
		"usr/local/share/bash-completion/completions/dncgate":    0o644,
		"usr/local/share/zsh/site-functions/_dncgate":            0o644,
		"usr/local/share/fish/vendor_completions.d/dncgate.fish": 0o644,
	} {
		fi, err := os.Stat(filepath.Join(dest, path))
		if err != nil {
			t.Errorf("not installed: %v", err)
			continue
		}
		if got := fi.Mode() & (fs.ModeDir | fs.ModePerm); got != mode {
			t.Errorf("%s: mode %v, want %v", path, got, mode)
		}
	}
	bin := filepath.Join(dest, "usr/local/bin/dncgate")
	cfg := filepath.Join(dest, "etc/dncgate/dncgate.toml")
	out, err := exec.Command(bin, "config", "check", "--config", cfg).Output()
	if err != nil {
		t.Fatalf("config check of the installed configuration: %v", err)
	}
	if !strings.Contains(string(out), `data_dir = "/var/lib/dncgate"`) {
		t.Errorf("the installed configuration does not keep its state in /var/lib/dncgate:\n%s", out)
	}

	if err := os.WriteFile(cfg, []byte("# edited\n"), 0o640); err != nil {
		t.Fatal(err)
	}
	if out := makeInstall(t, "DESTDIR="+dest); !strings.Contains(out, "keeping the existing") {
		t.Errorf("a second make install does not say it keeps the configuration:\n%s", out)
	}
	if b, _ := os.ReadFile(cfg); string(b) != "# edited\n" {
		t.Errorf("make install overwrote the configuration: %q", b)
	}
}

// TestMakeInstallPrefix: PREFIX moves the binary, and the unit starts it
// from there.
func TestMakeInstallPrefix(t *testing.T) {
	dest := t.TempDir()
	makeInstall(t, "DESTDIR="+dest, "PREFIX=/opt/dncgate")
	if _, err := os.Stat(filepath.Join(dest, "opt/dncgate/bin/dncgate")); err != nil {
		t.Fatal(err)
	}
	unit := unitKeys(t, filepath.Join(dest, "lib/systemd/system/dncgate.service"))
	if got := unit["ExecStart"]; len(got) != 1 || !strings.HasPrefix(got[0], "/opt/dncgate/bin/dncgate serve") {
		t.Errorf("ExecStart = %q, want /opt/dncgate/bin/dncgate serve ...", got)
	}
}

// TestUnitFile: the installed unit passes systemd-analyze verify, with no
// warning, and keeps its hardening.
func TestUnitFile(t *testing.T) {
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Fatal("systemd-analyze is not installed: run scripts/test-deps.sh (apt-get install systemd)")
	}
	dest := t.TempDir()
	makeInstall(t, "DESTDIR="+dest)
	installed := filepath.Join(dest, "lib/systemd/system/dncgate.service")
	text, err := os.ReadFile(installed)
	if err != nil {
		t.Fatal(err)
	}
	// verify checks that ExecStart's program exists: point it at the one
	// just installed under DESTDIR.
	unit := filepath.Join(t.TempDir(), "dncgate.service")
	bin := filepath.Join(dest, "usr/local/bin/dncgate")
	if err := os.WriteFile(unit, []byte(strings.Replace(string(text), "/usr/local/bin/dncgate", bin, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(analyze, "verify", "--man=no", unit).CombinedOutput()
	if err != nil || len(out) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}

	keys := unitKeys(t, installed)
	for key, want := range map[string]string{
		"User":                    "dncgate",
		"StateDirectory":          "dncgate",
		"ProtectSystem":           "strict",
		"ProtectHome":             "true",
		"PrivateTmp":              "true",
		"NoNewPrivileges":         "true",
		"AmbientCapabilities":     "CAP_NET_BIND_SERVICE",
		"CapabilityBoundingSet":   "CAP_NET_BIND_SERVICE",
		"ExecReload":              "/bin/kill -HUP $MAINPID",
		"RestrictAddressFamilies": "AF_INET AF_INET6 AF_UNIX",
		"SystemCallFilter":        "@system-service",
		"SocketBindDeny":          "any",
	} {
		if !slices.Contains(keys[key], want) {
			t.Errorf("%s = %q, want %q among them", key, keys[key], want)
		}
	}
	for _, port := range []string{"tcp:25", "tcp:465", "tcp:587"} {
		if !slices.Contains(keys["SocketBindAllow"], port) {
			t.Errorf("SocketBindAllow = %q lacks %s", keys["SocketBindAllow"], port)
		}
	}
}

// unitKeys reads a unit file's Key=value lines, every value of each key.
func unitKeys(t *testing.T, path string) map[string][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	keys := map[string][]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if k, v, ok := strings.Cut(line, "="); ok && !strings.HasPrefix(line, "#") {
			keys[k] = append(keys[k], v)
		}
	}
	return keys
}
