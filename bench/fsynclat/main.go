// Command fsynclat times the disk's flush as the send ledger's commit
// pays it: a few pages appended to a file, then fsync(2), N times. The
// bench prints it beside the ledger's figures of the same run, since the
// flush is what each record waits for before its copy's final dot.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"
)

func main() {
	dir := flag.String("dir", os.TempDir(), "folder on the disk to time (the ledger's)")
	n := flag.Int("n", 300, "flushes to time")
	pages := flag.Int("pages", 8, "4 KiB pages appended before each flush")
	flag.Parse()
	ds, err := run(*dir, *n, *pages)
	if err != nil {
		fmt.Fprintln(os.Stderr, "fsynclat:", err)
		os.Exit(1)
	}
	slices.Sort(ds)
	ms := func(q float64) float64 { return float64(ds[int(q*float64(len(ds)-1))].Microseconds()) / 1000 }
	json.NewEncoder(os.Stdout).Encode(map[string]any{"n": len(ds), "p50_ms": ms(0.50), "p90_ms": ms(0.90), "p99_ms": ms(0.99)})
}

func run(dir string, n, pages int) ([]time.Duration, error) {
	f, err := os.CreateTemp(dir, "fsynclat-*")
	if err != nil {
		return nil, err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	buf := make([]byte, pages*4096)
	ds := make([]time.Duration, 0, n)
	for i := 0; i < n; i++ {
		// Wrap around as a WAL does once checkpointed, so the file stays small.
		if _, err := f.WriteAt(buf, int64(i%128)*int64(len(buf))); err != nil {
			return nil, err
		}
		t := time.Now()
		if err := f.Sync(); err != nil {
			return nil, fmt.Errorf("%s: %w", filepath.Base(f.Name()), err)
		}
		ds = append(ds, time.Since(t))
	}
	return ds, nil
}
