package ledger

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

var t0 = time.Date(2026, 6, 15, 12, 0, 0, 0, time.UTC)

func decision(ref string, n byte) Decision {
	return Decision{At: t0, Ref: ref, RcptDigest: Digest{n}, Verdict: Allowed, Reason: "allowed",
		Lists: []ListVersion{{List: "optout", Version: "v1"}}}
}

// A crash in the middle of an append leaves a torn last entry: opening
// the spool cuts it off and keeps every whole entry before it.
func TestSpoolCutsTornTail(t *testing.T) {
	path := filepath.Join(t.TempDir(), "spool")
	s, err := OpenSpool(path, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	for _, ref := range []string{"A", "B", "C"} {
		if err := s.append(entry{Decisions: []Decision{decision(ref, 1)}}); err != nil {
			t.Fatal(err)
		}
	}
	whole := s.Bytes()
	s.Close()
	for _, tail := range [][]byte{{0, 0}, {0, 0, 0, 9, 1, 2, 3, 4, '{'}, {0, 0, 0, 2, 0, 0, 0, 0, '{', '}'}} {
		f, _ := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
		f.Write(tail)
		f.Close()
		s, err := OpenSpool(path, 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		if s.Bytes() != whole {
			t.Errorf("tail %v: spool keeps %d bytes, want %d", tail, s.Bytes(), whole)
		}
		var refs string
		for {
			e, end, ok, err := s.next()
			if err != nil {
				t.Fatal(err)
			}
			if !ok {
				break
			}
			refs += e.Decisions[0].Ref
			s.read = end
		}
		if refs != "ABC" {
			t.Errorf("read back %q, want ABC", refs)
		}
		s.Close()
	}
}

func TestSpoolFull(t *testing.T) {
	s, err := OpenSpool(filepath.Join(t.TempDir(), "spool"), 600)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	n := 0
	for ; n < 100; n++ {
		if err = s.append(entry{Decisions: []Decision{decision("R", byte(n))}}); err != nil {
			break
		}
	}
	if !errors.Is(err, ErrSpoolFull) || n == 0 || s.Bytes() > 600 {
		t.Fatalf("after %d appends: %v, %d bytes; want ErrSpoolFull within 600 bytes", n, err, s.Bytes())
	}
}

// flaky is a backend that fails while down and logs what it took.
type flaky struct {
	Ledger
	mu   sync.Mutex
	down bool
	log  []string
}

var errDown = errors.New("backend down")

func (f *flaky) take(what string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down {
		return errDown
	}
	f.log = append(f.log, what)
	return nil
}

func (f *flaky) Record(_ context.Context, ds []Decision) error { return f.take("record " + ds[0].Ref) }
func (f *flaky) SetOutcome(_ context.Context, ref string, _ Digest, o Outcome) error {
	return f.take("outcome " + ref + " " + string(o.Kind))
}
func (f *flaky) Audit(_ context.Context, e AuditEvent) error {
	return f.take("audit " + string(e.Action))
}
func (f *flaky) Close() error { return nil }

// While anything is spooled every write is spooled, and a replay applies
// them in order: an outcome never reaches the backend before its record.
func TestSpooledKeepsOrder(t *testing.T) {
	ctx := context.Background()
	back := &flaky{}
	sp, err := OpenSpool(filepath.Join(t.TempDir(), "spool"), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	l := NewSpooled(back, sp)
	defer l.Close()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(l.Record(ctx, []Decision{decision("A", 1)}))
	back.down = true
	ds := []Decision{decision("B", 2)}
	must(l.Record(ctx, ds))
	if ds[0].ID == "" {
		t.Error("Record gave the spooled decision no id")
	}
	back.down = false
	// The backend is back, but B waits in the spool: C and B's outcome
	// must follow it.
	must(l.Record(ctx, []Decision{decision("C", 3)}))
	must(l.SetOutcome(ctx, "B", Digest{2}, Outcome{Kind: Sent}))
	must(l.Audit(ctx, AuditEvent{At: t0, Action: ActOptOut}))
	if got := len(back.log); got != 1 {
		t.Fatalf("backend took %d writes while the spool was pending, want 1", got)
	}
	n, err := l.Replay(ctx)
	if err != nil || n != 4 {
		t.Fatalf("Replay = %d, %v; want 4", n, err)
	}
	want := []string{"record A", "record B", "record C", "outcome B sent", "audit opt-out"}
	if len(back.log) != len(want) {
		t.Fatalf("backend log %v, want %v", back.log, want)
	}
	for i := range want {
		if back.log[i] != want[i] {
			t.Fatalf("backend log %v, want %v", back.log, want)
		}
	}
	if sp.Pending() || sp.Bytes() != 0 {
		t.Errorf("spool not emptied after replay: %d bytes", sp.Bytes())
	}
}

// A replay that fails midway resumes where it stopped.
func TestReplayResumes(t *testing.T) {
	ctx := context.Background()
	back := &flaky{down: true}
	sp, _ := OpenSpool(filepath.Join(t.TempDir(), "spool"), 1<<20)
	l := NewSpooled(back, sp)
	defer l.Close()
	for _, ref := range []string{"A", "B"} {
		if err := l.Record(ctx, []Decision{decision(ref, 1)}); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := l.Replay(ctx); n != 0 || !errors.Is(err, errDown) {
		t.Fatalf("Replay while down = %d, %v", n, err)
	}
	back.down = false
	if n, err := l.Replay(ctx); n != 2 || err != nil || len(back.log) != 2 {
		t.Fatalf("Replay = %d, %v, log %v", n, err, back.log)
	}
}

// holding is a backend that knows which records it holds, answers
// ErrNotFound for the outcome of another, and runs during, once, while a
// record is written: as a session would, in the middle of a replay.
type holding struct {
	flaky
	held   map[string]bool
	during func(ref string)
}

func (h *holding) Record(ctx context.Context, ds []Decision) error {
	if f := h.during; f != nil && ds[0].Ref == "B2" {
		h.during = nil
		f(ds[0].Ref)
	}
	if err := h.flaky.Record(ctx, ds); err != nil {
		return err
	}
	h.held[ds[0].Ref] = true
	return nil
}

func (h *holding) SetOutcome(ctx context.Context, ref string, rcpt Digest, o Outcome) error {
	if h.down {
		return errDown
	}
	if !h.held[ref] {
		return ErrNotFound
	}
	return h.flaky.SetOutcome(ctx, ref, rcpt, o)
}

// Once a replay has written to the backend, new writes go straight to it
// while the replay goes on (so a replay under load ends), except an
// outcome whose record still waits in the spool: it follows its record.
func TestReplayUnderLoad(t *testing.T) {
	ctx := context.Background()
	back := &holding{flaky: flaky{down: true}, held: map[string]bool{}}
	sp, err := OpenSpool(filepath.Join(t.TempDir(), "spool"), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	l := NewSpooled(back, sp)
	defer l.Close()
	for i, ref := range []string{"B1", "B2"} {
		if err := l.Record(ctx, []Decision{decision(ref, byte(i))}); err != nil {
			t.Fatal(err)
		}
	}
	back.down = false
	var errs []error
	back.during = func(string) {
		errs = append(errs, l.Record(ctx, []Decision{decision("C", 9)}),
			l.SetOutcome(ctx, "C", Digest{9}, Outcome{Kind: Sent}),
			l.SetOutcome(ctx, "B2", Digest{1}, Outcome{Kind: Sent}))
	}
	n, err := l.Replay(ctx)
	if err != nil || n != 3 {
		t.Fatalf("Replay = %d, %v; want 3 (B1, B2 and B2's outcome)", n, err)
	}
	for _, e := range errs {
		if e != nil {
			t.Fatal(e)
		}
	}
	want := []string{"record B1", "record C", "outcome C sent", "record B2", "outcome B2 sent"}
	if fmt.Sprint(back.log) != fmt.Sprint(want) {
		t.Fatalf("backend log %v, want %v", back.log, want)
	}
	if sp.Pending() {
		t.Error("the spool still holds entries after the replay")
	}
	// With nothing spooled, an outcome of a record the backend lacks
	// (erased, expired) is dropped, as before.
	if err := l.SetOutcome(ctx, "gone", Digest{7}, Outcome{Kind: Sent}); err != nil || sp.Pending() {
		t.Fatalf("outcome of an unknown record: %v, spooled %v", err, sp.Pending())
	}
}
