package ledger

import (
	"context"
	"errors"
	"sync"
)

// maxBatch bounds one group commit, in calls.
const maxBatch = 256

var ErrClosed = errors.New("ledger: closed")

// Batcher writes the items submitted while a write is under way together
// in the next one: with many sessions at once, one transaction and one
// fsync per batch instead of one per call. Each caller still waits until
// its item is written, and gets its own item's error.
type Batcher[T any] struct {
	write func([]T) []error
	once  sync.Once
	reqs  chan batchReq[T]
	quit  chan struct{}
	done  chan struct{}
}

type batchReq[T any] struct {
	item T
	done chan error
}

// StartBatcher starts the loop; write gets at most maxBatch items and
// returns one error per item (nil for success).
func StartBatcher[T any](write func([]T) []error) *Batcher[T] {
	b := &Batcher[T]{write: write, reqs: make(chan batchReq[T]), quit: make(chan struct{}), done: make(chan struct{})}
	go b.loop()
	return b
}

func (b *Batcher[T]) loop() {
	defer close(b.done)
	batch := make([]batchReq[T], 0, maxBatch)
	items := make([]T, 0, maxBatch)
	for {
		select {
		case <-b.quit:
			return
		case r := <-b.reqs:
			batch = append(batch[:0], r)
		}
	collect:
		for len(batch) < maxBatch {
			select {
			case r := <-b.reqs:
				batch = append(batch, r)
			default:
				break collect
			}
		}
		items = items[:0]
		for _, r := range batch {
			items = append(items, r.item)
		}
		errs := b.write(items)
		for i, r := range batch {
			r.done <- errs[i]
		}
	}
}

// Stop ends the loop after the batch under way; later calls fail.
func (b *Batcher[T]) Stop() {
	b.once.Do(func() { close(b.quit) })
	<-b.done
}

// Submit hands item to the next batch and waits until it is written.
func (b *Batcher[T]) Submit(ctx context.Context, item T) error {
	r := batchReq[T]{item: item, done: make(chan error, 1)}
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

// GroupCommit batches Record calls; a batch is one transaction, so its
// calls share one outcome.
type GroupCommit = Batcher[[]Decision]

func StartGroupCommit(write func([][]Decision) error) *GroupCommit {
	return StartBatcher(func(dss [][]Decision) []error {
		err := write(dss)
		errs := make([]error, len(dss))
		for i := range errs {
			errs[i] = err
		}
		return errs
	})
}
