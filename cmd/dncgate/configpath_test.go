package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeTOML writes a configuration naming hostname into a fresh folder.
func writeTOML(t *testing.T, hostname string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "dncgate.toml")
	if err := os.WriteFile(p, []byte("[server]\nhostname = \""+hostname+"\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func envOf(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

// --config, then $DNCGATE_CONFIG, then the installed file when present,
// then the built-in defaults.
func TestConfigLookupOrder(t *testing.T) {
	flag, env, installed := writeTOML(t, "flag.test"), writeTOML(t, "env.test"), writeTOML(t, "installed.test")
	missing := filepath.Join(t.TempDir(), "dncgate.toml")
	withEnv := envOf(map[string]string{configEnv: env})
	noEnv := envOf(nil)
	for _, tc := range []struct {
		name string
		l    configLookup
		flag string
		want string
	}{
		{"flag first", configLookup{getenv: withEnv, installed: installed}, flag, flag},
		{"then the variable", configLookup{getenv: withEnv, installed: installed}, "", env},
		{"then the installed file", configLookup{getenv: noEnv, installed: installed}, "", installed},
		{"else the defaults", configLookup{getenv: noEnv, installed: missing}, "", ""},
	} {
		got, err := tc.l.find(tc.flag)
		if err != nil || got != tc.want {
			t.Errorf("%s: find(%q) = %q, %v; want %q", tc.name, tc.flag, got, err, tc.want)
		}
	}
}

// The lookup is what every command's --config defaults to.
func TestConfigLookupWired(t *testing.T) {
	installed := writeTOML(t, "installed.test")
	for _, tc := range []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"installed", nil, nil, "installed.test"},
		{"variable", map[string]string{configEnv: writeTOML(t, "env.test")}, nil, "env.test"},
		{"flag", map[string]string{configEnv: writeTOML(t, "env.test")}, []string{"--config", writeTOML(t, "flag.test")}, "flag.test"},
	} {
		var out, errOut strings.Builder
		a := &app{stdout: &out, stderr: &errOut, lookup: configLookup{getenv: envOf(tc.env), installed: installed}}
		args := append([]string{"config", "check", "--data", t.TempDir()}, tc.args...)
		if code := a.run(context.Background(), args); code != exitOK {
			t.Fatalf("%s: exit %d: %s", tc.name, code, errOut.String())
		}
		if !strings.Contains(out.String(), `hostname = "`+tc.want+`"`) {
			t.Errorf("%s: config check printed\n%s\nwant hostname %q", tc.name, out.String(), tc.want)
		}
	}
}

// A variable naming a file that is not there is an error, not the
// defaults.
func TestConfigVariableMissingFile(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "nope.toml")
	var out, errOut strings.Builder
	a := &app{stdout: &out, stderr: &errOut, lookup: configLookup{getenv: envOf(map[string]string{configEnv: missing}), installed: missing}}
	if code := a.run(context.Background(), []string{"config", "check"}); code != exitFail {
		t.Fatalf("exit %d, want %d", code, exitFail)
	}
	if !strings.Contains(errOut.String(), missing) {
		t.Errorf("stderr %q does not name %s", errOut.String(), missing)
	}
}
