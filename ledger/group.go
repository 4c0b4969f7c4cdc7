package ledger

import (
	"context"
	"errors"
	"sync"
)

// maxBatch bounds one group commit, in calls.
const maxBatch = 256

var ErrClosed = errors.New("ledger: closed")

type request struct {
	ds   []Decision
	done chan error
}

// GroupCommit writes the Record calls that arrive while a transaction
// commits together in the next one: with many sessions deciding at once,
// one fsync per batch instead of one per call. Each caller still waits
// until its records are durable.
type GroupCommit struct {
	write func([][]Decision) error
	once  sync.Once
	reqs  chan request
	quit  chan struct{}
	done  chan struct{}
}

func StartGroupCommit(write func([][]Decision) error) *GroupCommit {
	g := &GroupCommit{write: write, reqs: make(chan request), quit: make(chan struct{}), done: make(chan struct{})}
	go g.loop()
	return g
}

func (g *GroupCommit) loop() {
	defer close(g.done)
	batch := make([]request, 0, maxBatch)
	for {
		select {
		case <-g.quit:
			return
		case r := <-g.reqs:
			batch = append(batch[:0], r)
		}
	collect:
		for len(batch) < maxBatch {
			select {
			case r := <-g.reqs:
				batch = append(batch, r)
			default:
				break collect
			}
		}
		dss := make([][]Decision, len(batch))
		for i, r := range batch {
			dss[i] = r.ds
		}
		err := g.write(dss)
		for _, r := range batch {
			r.done <- err
		}
	}
}

// Stop ends the loop after the batch under way; later calls fail.
func (g *GroupCommit) Stop() {
	g.once.Do(func() { close(g.quit) })
	<-g.done
}

// Submit hands ds to the next batch and waits until it is written.
func (g *GroupCommit) Submit(ctx context.Context, ds []Decision) error {
	r := request{ds: ds, done: make(chan error, 1)}
	select {
	case g.reqs <- r:
	case <-g.quit:
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
