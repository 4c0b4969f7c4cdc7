package embedded_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dncgate/dncgate/store"
	"github.com/dncgate/dncgate/store/embedded"
	"github.com/dncgate/dncgate/store/storetest"
)

// epoch is a fixed start with nanoseconds, so a store that rounds times
// fails the timestamp checks.
var epoch = time.Date(2026, 3, 1, 9, 0, 0, 123456789, time.UTC)

func openAt(t testing.TB, path string) *embedded.Store {
	t.Helper()
	s, err := embedded.Open(path)
	if err != nil {
		t.Fatalf("Open(%s): %v", path, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Harness {
		path := filepath.Join(t.TempDir(), "dncgate.db")
		s := openAt(t, path)
		clock := storetest.NewClock(epoch)
		s.SetClock(clock.Now)
		drop := func(t *testing.T) {
			db, err := sql.Open("sqlite", path)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if _, err := db.Exec("DELETE FROM identity"); err != nil {
				t.Fatal(err)
			}
		}
		return storetest.Harness{Store: s, Advance: clock.Advance, DropIdentity: drop}
	})
}

func TestOpenCreatesFolderAndPrivateFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a", "b", "dncgate.db")
	openAt(t, path)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatalf("Open did not create the file: %v", err)
	}
	if mode := fi.Mode().Perm(); mode != 0o600 {
		t.Fatalf("file mode %o, want 600: the file holds password hashes", mode)
	}
}

func TestOpenRefusesNewerSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dncgate.db")
	openAt(t, path).Close()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("PRAGMA user_version = 99"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	_, err = embedded.Open(path)
	if err == nil || !strings.Contains(err.Error(), "newer") {
		t.Fatalf("Open of a newer schema = %v, want an error saying it is newer", err)
	}
}

func TestReopenKeepsData(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dncgate.db")
	ctx := context.Background()
	s := openAt(t, path)
	u := store.User{Email: "a@example.fr", Role: store.RoleAdmin, SendAs: []string{"@example.fr"}}
	if err := s.AddUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkDelivered(ctx, "m", "r", time.Hour); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Hit(ctx, "k", time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	s = openAt(t, path)
	if got, err := s.User(ctx, u.Email); err != nil || got.Role != store.RoleAdmin {
		t.Fatalf("after reopen User = %+v, %v", got, err)
	}
	if got, err := s.Delivered(ctx, "m"); err != nil || !got["r"] {
		t.Fatalf("after reopen Delivered = %v, %v", got, err)
	}
	if n, err := s.Count(ctx, "k"); err != nil || n != 1 {
		t.Fatalf("after reopen Count = %d, %v", n, err)
	}
}

func TestTwoStoresOnOneFileSeeEachOther(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dncgate.db")
	a, b := openAt(t, path), openAt(t, path)
	ctx := context.Background()
	u := store.User{Email: "rep@example.fr", Role: store.RoleRep}
	if err := a.AddUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	if _, err := b.User(ctx, u.Email); err != nil {
		t.Fatalf("user added through one store not seen by the other: %v", err)
	}
	u.Role = store.RoleManager
	if err := b.UpdateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	if got, err := a.User(ctx, u.Email); err != nil || got.Role != store.RoleManager {
		t.Fatalf("update through one store seen by the other as %+v, %v", got, err)
	}
	if err := a.AddUser(ctx, u); !errors.Is(err, store.ErrExists) {
		t.Fatalf("AddUser of a user the other store added = %v, want ErrExists", err)
	}
}

// childEnv names the store file a child process writes to; see
// TestChildProcess.
const childEnv = "DNCGATE_EMBEDDED_CHILD_DB"

// childHits is how many hits each process adds to the shared counter.
const childHits = 100

// TestProcessesShareFile runs two child processes (this test binary,
// re-executed) that open the same new file at the same time as this
// process, each adding a user and hitting one counter. Every write must
// count and be visible here without reopening.
func TestProcessesShareFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "db", "dncgate.db")
	var children sync.WaitGroup
	errs := make([]error, 2)
	for i := range errs {
		children.Go(func() { errs[i] = runChild(path, i) })
	}
	s := openAt(t, path)
	ctx := context.Background()
	for range childHits {
		if _, err := s.Hit(ctx, "shared", time.Hour); err != nil {
			t.Fatalf("Hit: %v", err)
		}
	}
	children.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	for i := range errs {
		if _, err := s.User(ctx, childEmail(i)); err != nil {
			t.Fatalf("user added by child %d: %v", i, err)
		}
	}
	if n, err := s.Count(ctx, "shared"); err != nil || n != 3*childHits {
		t.Fatalf("Count = %d, %v; want %d hits from three processes", n, err, 3*childHits)
	}
}

func childEmail(i int) string { return fmt.Sprintf("child%d@example.fr", i) }

func runChild(path string, i int) error {
	cmd := exec.Command(os.Args[0], "-test.run=^TestChildProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), childEnv+"="+path, "CHILD_INDEX="+strconv.Itoa(i))
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("child %d: %v\n%s", i, err, out)
	}
	if !strings.Contains(string(out), "child done") {
		return fmt.Errorf("child %d did not run its work:\n%s", i, out)
	}
	return nil
}

// TestChildProcess is the child's side of TestProcessesShareFile; run
// directly, it does nothing.
func TestChildProcess(t *testing.T) {
	path := os.Getenv(childEnv)
	if path == "" {
		return
	}
	i, _ := strconv.Atoi(os.Getenv("CHILD_INDEX"))
	s, err := embedded.Open(path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer s.Close()
	ctx := context.Background()
	if err := s.AddUser(ctx, store.User{Email: childEmail(i), Role: store.RoleRep}); err != nil {
		t.Fatalf("AddUser: %v", err)
	}
	for range childHits {
		if _, err := s.Hit(ctx, "shared", time.Hour); err != nil {
			t.Fatalf("Hit: %v", err)
		}
	}
	fmt.Println("child done")
}

func TestPathWithQueryCharsRefused(t *testing.T) {
	if _, err := embedded.Open(filepath.Join(t.TempDir(), "x?mode=ro")); err == nil {
		t.Fatal("Open accepted a path with '?', which SQLite would read as parameters")
	}
}

func BenchmarkEmbeddedDelivery(b *testing.B) {
	s := openAt(b, filepath.Join(b.TempDir(), "dncgate.db"))
	ctx := context.Background()
	i := 0
	for b.Loop() {
		msg := "msg-" + strconv.Itoa(i)
		i++
		if _, err := s.Delivered(ctx, msg); err != nil {
			b.Fatal(err)
		}
		if err := s.MarkDelivered(ctx, msg, "rcpt", 72*time.Hour); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEmbeddedDeliveryParallel(b *testing.B) {
	s := openAt(b, filepath.Join(b.TempDir(), "dncgate.db"))
	ctx := context.Background()
	var seq atomic.Int64
	b.SetParallelism(10) // 20 goroutines on 2 cores, like 20 SMTP sessions
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			msg := "msg-" + strconv.FormatInt(seq.Add(1), 10)
			if _, err := s.Delivered(ctx, msg); err != nil {
				b.Error(err)
				return
			}
			if err := s.MarkDelivered(ctx, msg, "rcpt", 72*time.Hour); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// TestMarkAfterCloseFails: a mark after Close is refused, never left waiting.
func TestMarkAfterCloseFails(t *testing.T) {
	s, err := embedded.Open(filepath.Join(t.TempDir(), "dncgate.db"))
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.MarkDelivered(ctx, "m", "r", time.Hour); err == nil || ctx.Err() != nil {
		t.Fatalf("MarkDelivered after Close: %v (ctx %v), want an immediate error", err, ctx.Err())
	}
}
