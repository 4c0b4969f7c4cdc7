// Package groupcommit writes the calls that arrive while a write is under
// way together in the next one: with many sessions at once, one
// transaction (one commit, one fsync) per batch instead of one per call.
// Each caller still waits until its own item is written and gets its own
// item's error.
//
// Under load the writer may also wait a little before it writes (Wait):
// when the batch it has just written held more than one call, calls are
// arriving faster than it commits, so it collects for up to Wait before
// the next write, and fewer, larger commits carry them. A caller alone
// (each batch a single call) is written at once and never waits. This is
// the rule of PostgreSQL's commit_delay and commit_siblings: delay a
// commit only when others are about to commit too.
package groupcommit

import (
	"context"
	"errors"
	"sync"
	"time"
)

// ErrClosed is the error of a call submitted after Stop.
var ErrClosed = errors.New("closed")

// Options tune a Batcher.
type Options struct {
	// Max bounds one batch, in calls; 0 is DefaultMax.
	Max int
	// Wait is how long the writer collects more calls before a write,
	// when the previous batch held more than one call; 0 writes at once.
	Wait time.Duration
}

// DefaultMax is the default bound of a batch.
const DefaultMax = 256

// Batcher runs the write loop of one writer.
type Batcher[T any] struct {
	write func([]T) []error
	o     Options
	once  sync.Once
	reqs  chan req[T]
	quit  chan struct{}
	done  chan struct{}

	mu    sync.Mutex
	stats Stats
}

// Stats count what a Batcher wrote since it started.
type Stats struct {
	Batches, Calls int64
	Waited         int64 // batches written after a Wait
}

type req[T any] struct {
	item T
	done chan error
}

// Start starts the loop; write gets at most o.Max items and returns one
// error per item (nil for success).
func Start[T any](write func([]T) []error, o Options) *Batcher[T] {
	if o.Max <= 0 {
		o.Max = DefaultMax
	}
	b := &Batcher[T]{write: write, o: o, reqs: make(chan req[T]), quit: make(chan struct{}), done: make(chan struct{})}
	go b.loop()
	return b
}

func (b *Batcher[T]) loop() {
	defer close(b.done)
	batch := make([]req[T], 0, b.o.Max)
	items := make([]T, 0, b.o.Max)
	prev := 0
	for {
		select {
		case <-b.quit:
			return
		case r := <-b.reqs:
			batch = append(batch[:0], r)
		}
		batch = b.collect(batch)
		waited := false
		if b.o.Wait > 0 && prev > 1 && len(batch) < b.o.Max {
			batch, waited = b.linger(batch), true
		}
		prev = len(batch)
		items = items[:0]
		for _, r := range batch {
			items = append(items, r.item)
		}
		errs := b.write(items)
		for i, r := range batch {
			r.done <- errs[i]
		}
		b.count(len(batch), waited)
	}
}

// collect adds the calls already waiting.
func (b *Batcher[T]) collect(batch []req[T]) []req[T] {
	for len(batch) < b.o.Max {
		select {
		case r := <-b.reqs:
			batch = append(batch, r)
		default:
			return batch
		}
	}
	return batch
}

// linger adds the calls that arrive within Wait, or until the batch is
// full or the batcher stops.
func (b *Batcher[T]) linger(batch []req[T]) []req[T] {
	t := time.NewTimer(b.o.Wait)
	defer t.Stop()
	for len(batch) < b.o.Max {
		select {
		case r := <-b.reqs:
			batch = append(batch, r)
		case <-t.C:
			return batch
		case <-b.quit:
			return batch
		}
	}
	return batch
}

func (b *Batcher[T]) count(calls int, waited bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.stats.Batches++
	b.stats.Calls += int64(calls)
	if waited {
		b.stats.Waited++
	}
}

// Stats reads the counters.
func (b *Batcher[T]) Stats() Stats {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.stats
}

// Stop ends the loop after the batch under way (a batch collecting is
// written first); later calls fail with ErrClosed.
func (b *Batcher[T]) Stop() {
	b.once.Do(func() { close(b.quit) })
	<-b.done
}

// Submit hands item to the next batch and waits until it is written.
func (b *Batcher[T]) Submit(ctx context.Context, item T) error {
	r := req[T]{item: item, done: make(chan error, 1)}
	select {
	case b.reqs <- r:
	case <-b.quit:
		return ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-r.done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Do is Submit for a caller that must learn what became of its item
// once it is handed over: ctx bounds only the wait to hand it over, and
// Do then waits for the write whatever ctx does (the write is all or
// nothing, and the caller learns which).
func (b *Batcher[T]) Do(ctx context.Context, item T) error {
	r := req[T]{item: item, done: make(chan error, 1)}
	select {
	case b.reqs <- r:
	case <-b.quit:
		return ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	return <-r.done
}
