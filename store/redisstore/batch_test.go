package redisstore

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestBatcherRunsEachJobOnce sends many concurrent jobs through batchers
// of one and two flights whose flush is slow enough for callers to pile
// up: every job must run exactly once, before its caller returns, no
// flush may exceed maxBatch, and piled-up callers must share flushes.
func TestBatcherRunsEachJobOnce(t *testing.T) {
	for _, flights := range []int{1, 2} {
		const callers, each = 16, 50
		var flushes, inFlight, maxSeen atomic.Int64
		ran := make([]atomic.Int64, callers*each)
		b := newBatcher(func(_ context.Context, jobs []*int) {
			if n := inFlight.Add(1); n > maxSeen.Load() {
				maxSeen.Store(n)
			}
			defer inFlight.Add(-1)
			flushes.Add(1)
			if len(jobs) > defaultMaxBatch {
				t.Errorf("flush of %d jobs, max %d", len(jobs), defaultMaxBatch)
			}
			time.Sleep(200 * time.Microsecond)
			for _, j := range jobs {
				ran[*j].Add(1)
			}
		})
		b.maxFlights = flights
		var wg sync.WaitGroup
		for c := range callers {
			wg.Go(func() {
				for i := range each {
					job := c*each + i
					b.do(context.Background(), &job)
					if got := ran[job].Load(); got != 1 {
						t.Errorf("job %d ran %d times when its call returned", job, got)
					}
				}
			})
		}
		wg.Wait()
		for i := range ran {
			if n := ran[i].Load(); n != 1 {
				t.Fatalf("flights=%d: job %d ran %d times", flights, i, n)
			}
		}
		if got := maxSeen.Load(); got > int64(flights) {
			t.Errorf("flights=%d: %d flushes ran at once", flights, got)
		}
		if f := flushes.Load(); f >= callers*each/2 {
			t.Errorf("flights=%d: %d flushes for %d jobs: callers did not share them", flights, f, callers*each)
		}
		b.mu.Lock()
		if len(b.queue) != 0 || b.flights != 0 {
			t.Errorf("flights=%d: left %d queued, %d flights open", flights, len(b.queue), b.flights)
		}
		b.mu.Unlock()
	}
}

// TestBatcherIgnoresCancelledLeader: a leader whose context is cancelled
// still runs the flush for the callers it carries.
func TestBatcherIgnoresCancelledLeader(t *testing.T) {
	b := newBatcher(func(ctx context.Context, jobs []*int) {
		if err := ctx.Err(); err != nil {
			t.Errorf("flush got a cancelled context: %v", err)
		}
		for _, j := range jobs {
			*j = 1
		}
	})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	job := 0
	b.do(ctx, &job)
	if job != 1 {
		t.Fatal("the job did not run")
	}
}
