package config

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/bad/*.err from the current messages")

// TestBadConfigs loads each testdata/bad/NAME.toml and compares every
// reported problem with NAME.err, line for line.
func TestBadConfigs(t *testing.T) {
	files, err := filepath.Glob("testdata/bad/*.toml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no bad configs found (%v)", err)
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".toml")
		t.Run(name, func(t *testing.T) {
			c, err := Load(f)
			if err == nil {
				t.Fatalf("Load accepted a bad config: %+v", c)
			}
			if c != nil {
				t.Errorf("Load returned a config along with its error")
			}
			golden := strings.TrimSuffix(f, ".toml") + ".err"
			if *update {
				os.WriteFile(golden, []byte(err.Error()+"\n"), 0o644)
				return
			}
			want, rerr := os.ReadFile(golden)
			if rerr != nil {
				t.Fatal(rerr)
			}
			if got := err.Error(); got != strings.TrimSpace(string(want)) {
				t.Errorf("problems differ\n got:\n%s\nwant:\n%s", got, want)
			}
		})
	}
}

// TestEveryGoldenHasItsConfig keeps stray .err files from hiding a deleted case.
func TestEveryGoldenHasItsConfig(t *testing.T) {
	errs, _ := filepath.Glob("testdata/bad/*.err")
	for _, e := range errs {
		if _, err := os.Stat(strings.TrimSuffix(e, ".err") + ".toml"); err != nil {
			t.Errorf("%s has no .toml beside it", e)
		}
	}
}
