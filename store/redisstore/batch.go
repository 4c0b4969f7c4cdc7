package redisstore

import (
	"context"
	"sync"
)

// A batcher merges the calls that arrive while earlier ones are on the
// wire into one script run, as a database merges concurrent commits: a
// busy gateway then pays Redis's per-command cost (a read, a script
// start, a write, and the client's system calls) once per batch rather
// than once per recipient. Nothing waits for company: a call finding a
// flight free goes at once, so a lone session sees no added latency.
//
// The caller that opens a flight leads it: it runs what is queued, wakes
// those it ran, then hands the flight to the oldest caller still queued,
// or closes it. No goroutine runs in the background.
type batcher[J any] struct {
	flush      func(ctx context.Context, jobs []J) // sets each job's result
	maxBatch   int                                 // jobs in one flush
	maxFlights int                                 // flushes on the wire at once

	mu      sync.Mutex
	queue   []*queued[J]
	flights int
}

type queued[J any] struct {
	job     J
	offered bool      // asked to lead: only once, so wake never fills up
	wake    chan bool // true: its flush ran; false: lead a flight
}

// Batch sizes: a few dozen recipients' caps make a script that runs well
// under a millisecond; two flights let one batch be built and read while
// the other is in Redis.
const (
	defaultMaxBatch   = 32
	defaultMaxFlights = 2
)

func newBatcher[J any](flush func(context.Context, []J)) *batcher[J] {
	return &batcher[J]{flush: flush, maxBatch: defaultMaxBatch, maxFlights: defaultMaxFlights}
}

// do runs job in some flush and returns when that flush is over. The
// flush does not stop when ctx is cancelled: it is shared with other
// callers, and the client's own timeouts bound it.
func (b *batcher[J]) do(ctx context.Context, job J) {
	q := &queued[J]{job: job, wake: make(chan bool, 2)}
	b.mu.Lock()
	b.queue = append(b.queue, q)
	lead := b.flights < b.maxFlights
	if lead {
		b.flights++
		q.offered = true
	}
	b.mu.Unlock()
	ctx = context.WithoutCancel(ctx)
	for {
		if lead {
			b.lead(ctx)
		}
		if done := <-q.wake; done {
			return
		}
		lead = true
	}
}

// lead runs one flight: a flush of the oldest queued jobs (none when
// another flight took them all), then the hand-over.
func (b *batcher[J]) lead(ctx context.Context) {
	b.mu.Lock()
	n := min(len(b.queue), b.maxBatch)
	batch := make([]*queued[J], n)
	copy(batch, b.queue)
	b.queue = append(b.queue[:0], b.queue[n:]...)
	b.mu.Unlock()
	if n > 0 {
		jobs := make([]J, n)
		for i, q := range batch {
			jobs[i] = q.job
		}
		b.flush(ctx, jobs)
		for _, q := range batch {
			q.wake <- true
		}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, q := range b.queue {
		if !q.offered {
			q.offered = true
			q.wake <- false
			return
		}
	}
	b.flights--
}
