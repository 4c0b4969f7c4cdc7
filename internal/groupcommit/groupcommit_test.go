package groupcommit

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

// recorder is a write function that keeps each batch it was given and
// can be held, so that calls pile up behind a write under way.
type recorder struct {
	mu      sync.Mutex
	batches [][]int
	hold    chan struct{} // nil: writes return at once
	started chan struct{}
}

func (r *recorder) write(items []int) []error {
	if r.started != nil {
		r.started <- struct{}{}
	}
	if r.hold != nil {
		<-r.hold
	}
	r.mu.Lock()
	r.batches = append(r.batches, append([]int(nil), items...))
	r.mu.Unlock()
	errs := make([]error, len(items))
	for i, it := range items {
		if it < 0 {
			errs[i] = errors.New("negative")
		}
	}
	return errs
}

func (r *recorder) sizes() []int {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []int
	for _, b := range r.batches {
		out = append(out, len(b))
	}
	return out
}

// A caller alone is written at once, however long the Wait: each of its
// calls returns well within a deadline far shorter than the Wait.
func TestLoneCallerNeverWaits(t *testing.T) {
	rec := &recorder{}
	b := Start(rec.write, Options{Wait: time.Hour})
	defer b.Stop()
	for i := range 20 {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err := b.Submit(ctx, i)
		cancel()
		if err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	if st := b.Stats(); st.Batches != 20 || st.Calls != 20 || st.Waited != 0 {
		t.Errorf("stats = %+v, want 20 batches of one, none waited", st)
	}
}

// submitAsync submits items, each from a goroutine of its own, and
// returns a channel of their errors.
func submitAsync(b *Batcher[int], items ...int) chan error {
	errs := make(chan error, len(items))
	for _, it := range items {
		go func() { errs <- b.Submit(context.Background(), it) }()
	}
	return errs
}

// waitQueued waits until n calls are blocked on the batcher's channel
// (the loop is busy writing, so none is taken).
func waitQueued(t *testing.T, _ *Batcher[int], _ int, errs chan error) {
	t.Helper()
	// The calls are blocked in Submit's send; there is no count of them,
	// so give them time to get there. Nothing is asserted on this time.
	time.Sleep(50 * time.Millisecond)
	select {
	case err := <-errs:
		t.Fatalf("a call returned while the write was held: %v", err)
	default:
	}
}

// After a batch of several calls the writer collects for Wait: a call
// that arrives during the wait joins the batch of those waiting already.
func TestWaitsForMoreAfterABatchOfSeveral(t *testing.T) {
	rec := &recorder{hold: make(chan struct{}), started: make(chan struct{}, 16)}
	b := Start(rec.write, Options{Wait: time.Hour})
	defer b.Stop()

	first := submitAsync(b, 1)
	<-rec.started // the writer is on a batch of one
	second := submitAsync(b, 2, 3)
	waitQueued(t, b, 2, second)
	rec.hold <- struct{}{} // batch {1} done; {2, 3} are taken at once, no wait (the batch before held one)
	<-rec.started
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	third := submitAsync(b, 4)
	waitQueued(t, b, 1, third)
	rec.hold <- struct{}{} // batch {2, 3} done: the next one, {4}, waits for more
	for range 2 {
		if err := <-second; err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(50 * time.Millisecond)
	if got := rec.sizes(); len(got) != 2 {
		t.Fatalf("batches written = %v, want 2: the third should still be collecting", got)
	}
	fourth := submitAsync(b, 5, -6)
	waitQueued(t, b, 2, fourth) // they join the batch collecting
	close(rec.hold)
	b.Stop() // a batch collecting is written when the batcher stops
	if err := <-third; err != nil {
		t.Fatal(err)
	}
	var failed int
	for range 2 {
		if err := <-fourth; err != nil {
			failed++
		}
	}
	if got := rec.sizes(); len(got) != 3 || got[2] != 3 {
		t.Fatalf("batches = %v, want [1 2 3]: the one after a batch of two waited and took the late calls", got)
	}
	if failed != 1 {
		t.Errorf("%d of the late calls failed, want 1 (each gets its own item's error)", failed)
	}
	if st := b.Stats(); st.Waited != 1 {
		t.Errorf("waited = %d, want 1", st.Waited)
	}
	if err := b.Submit(context.Background(), 7); !errors.Is(err, ErrClosed) {
		t.Errorf("submit after Stop = %v, want ErrClosed", err)
	}
}

// Without a Wait the writer never waits, however full its batches.
func TestNoWaitWritesAtOnce(t *testing.T) {
	rec := &recorder{hold: make(chan struct{}), started: make(chan struct{}, 16)}
	b := Start(rec.write, Options{})
	defer b.Stop()
	a := submitAsync(b, 1)
	<-rec.started
	c := submitAsync(b, 2, 3)
	waitQueued(t, b, 2, c)
	rec.hold <- struct{}{}
	<-rec.started
	rec.hold <- struct{}{}
	d := submitAsync(b, 4)
	<-rec.started
	close(rec.hold)
	for _, ch := range []chan error{a, c, c, d} {
		if err := <-ch; err != nil {
			t.Fatal(err)
		}
	}
	if got := rec.sizes(); len(got) != 3 || got[1] != 2 || got[2] != 1 {
		t.Errorf("batches = %v, want [1 2 1]", got)
	}
	if st := b.Stats(); st.Waited != 0 {
		t.Errorf("waited = %d, want 0", st.Waited)
	}
}

// Max bounds a batch, also one that is collecting.
func TestMaxBoundsTheWait(t *testing.T) {
	rec := &recorder{hold: make(chan struct{}), started: make(chan struct{}, 16)}
	b := Start(rec.write, Options{Max: 2, Wait: time.Hour})
	defer b.Stop()
	a := submitAsync(b, 1)
	<-rec.started
	c := submitAsync(b, 2, 3)
	waitQueued(t, b, 2, c)
	rec.hold <- struct{}{}
	<-rec.started // {2, 3}
	d := submitAsync(b, 4, 5, 6)
	waitQueued(t, b, 3, d)
	rec.hold <- struct{}{} // the next batch waits, but is full at two
	<-rec.started
	close(rec.hold)
	for _, ch := range []chan error{a, c, c, d, d} {
		if err := <-ch; err != nil {
			t.Fatal(err)
		}
	}
	b.Stop() // the last call is collecting, after a batch of two
	if err := <-d; err != nil {
		t.Fatal(err)
	}
	got := rec.sizes()
	if len(got) < 3 || got[2] != 2 {
		t.Errorf("batches = %v, want the third of 2 (Max), not waiting for an hour", got)
	}
}
