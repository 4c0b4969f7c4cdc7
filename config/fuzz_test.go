package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzDecode feeds arbitrary text to the decoder and the line scanner:
// neither may panic, and every problem must name its key. (Validate is left
// out: it opens the files a config names.)
func FuzzDecode(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/bad/*.toml")
	seeds = append(seeds, "../dncgate.example.toml")
	for _, s := range seeds {
		if b, err := os.ReadFile(s); err == nil {
			f.Add(string(b))
		}
	}
	f.Fuzz(func(t *testing.T, text string) {
		c := Default()
		c.src = &source{file: "fuzz.toml"}
		scanLines(text)
		problems, err := c.decode(text)
		if err != nil {
			return
		}
		for _, p := range problems {
			if p.Key == "" || strings.TrimSpace(p.Msg) == "" {
				t.Errorf("problem without key or message: %+v", p)
			}
		}
		c.Masked()
	})
}
