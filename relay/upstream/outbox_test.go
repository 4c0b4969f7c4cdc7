package upstream

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// stepClock returns a clock that moves one second on every reading.
func stepClock() func() time.Time {
	var n atomic.Int64
	start := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	return func() time.Time { return start.Add(time.Duration(n.Add(1)) * time.Second) }
}

func newOutboxTarget(t testing.TB, dir string) Target {
	t.Helper()
	spec, err := ParseURL("outbox:" + dir)
	if err != nil {
		t.Fatal(err)
	}
	tg, err := NewTarget(spec, TargetOptions{Now: stepClock()})
	if err != nil {
		t.Fatal(err)
	}
	return tg
}

func emlFiles(t testing.TB, dir string) []string {
	t.Helper()
	names, err := filepath.Glob(filepath.Join(dir, "*.eml"))
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(names)
	return names
}

var outboxName = regexp.MustCompile(`^\d{8}T\d{6}\.\d{9}Z-[0-9a-f]{16}\.eml$`)

func TestOutbox(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "spool", "out")
	tg := newOutboxTarget(t, dir)
	f := NewForwarder(tg, newMemDeliveries(), ForwarderOptions{Parallel: 1}, nil)
	body := []byte("Subject: hi\r\n\r\nline one\r\nline two\r\n")
	rcpts := []string{"ann@example.com", "bob@example.com"}
	wantResults(t, f.Forward(context.Background(), envelope(rcpts...), body), rcpts, nil)

	info, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if perm := info.Mode().Perm(); perm != 0o700 {
		t.Errorf("outbox folder mode %o, want 700", perm)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Fatalf("%d entries in the outbox, want 2 files and no leftovers", len(entries))
	}
	for i, name := range emlFiles(t, dir) {
		if !outboxName.MatchString(filepath.Base(name)) {
			t.Errorf("file name %q does not sort by time", filepath.Base(name))
		}
		got, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		want := "X-Dncgate-Envelope-From: <" + testFrom + ">\r\nX-Dncgate-Envelope-To: <" + rcpts[i] + ">\r\n" + string(body)
		if string(got) != want {
			t.Errorf("%s =\n%q\nwant\n%q", filepath.Base(name), got, want)
		}
	}
}

// A reader scanning the folder while messages are written sees only whole
// files.
func TestOutboxAtomic(t *testing.T) {
	dir := t.TempDir()
	tg := newOutboxTarget(t, dir)
	body := bytes.Repeat([]byte("0123456789 abcdefghij 0123456789 abcdefghij\r\n"), 20000)
	want := append([]byte("X-Dncgate-Envelope-From: <"+testFrom+">\r\nX-Dncgate-Envelope-To: <ann@example.com>\r\n"), body...)
	const n = 10
	done := make(chan struct{})
	var wg sync.WaitGroup
	var partial atomic.Int32
	wg.Go(func() {
		for {
			names, _ := filepath.Glob(filepath.Join(dir, "*.eml"))
			for _, name := range names {
				if got, err := os.ReadFile(name); err == nil && !bytes.Equal(got, want) {
					partial.Add(1)
				}
			}
			select {
			case <-done:
				return
			default:
			}
		}
	})
	for range n {
		if err := sendTo(tg, "ann@example.com", body); err != nil {
			t.Fatal(err)
		}
	}
	close(done)
	wg.Wait()
	if p := partial.Load(); p != 0 {
		t.Fatalf("reader saw %d incomplete files", p)
	}
	if got := len(emlFiles(t, dir)); got != n {
		t.Fatalf("%d files, want %d", got, n)
	}
}
