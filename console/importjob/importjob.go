// Package importjob runs the console's uploads in the background: the
// import of a list or contacts file, through the same import code as the
// CLI, with its progress readable while it runs and its report after.
package importjob

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"sync"
	"time"
)

// Counts are how far an import got.
type Counts struct {
	Bytes, Rows, Valid, Invalid int64
	Storing                     bool // the file is read; the entries are being written
}

// Run does one import, calling progress as it reads; its result is the
// import's report, also on failure.
type Run func(ctx context.Context, progress func(Counts)) (report any, err error)

// Status is a job as a page shows it.
type Status struct {
	ID, What, By   string
	Started, Ended time.Time // Ended zero while it runs
	Counts
	Rate   float64 // rows a second so far
	Done   bool
	Report any   // the import's report once done
	Err    error // why it failed; nil on success
}

// Job is one import under way or done.
type Job struct {
	mu sync.Mutex
	st Status
}

// Status is a copy of the job's state now.
func (j *Job) Status(now time.Time) Status {
	j.mu.Lock()
	defer j.mu.Unlock()
	st := j.st
	end := st.Ended
	if end.IsZero() {
		end = now
	}
	if secs := end.Sub(st.Started).Seconds(); secs > 0 {
		st.Rate = float64(st.Rows) / secs
	}
	return st
}

// Runner holds the jobs of one process, at most Max at once, and keeps
// the finished ones for Keep so their reports can be read.
type Runner struct {
	Max  int
	Keep time.Duration
	Now  func() time.Time

	mu      sync.Mutex
	jobs    map[string]*Job
	running int
	wg      sync.WaitGroup
}

// ErrBusy: Max imports are already running.
var ErrBusy = errors.New("importjob: too many imports running")

// New returns a runner.
func New(max int, keep time.Duration, now func() time.Time) *Runner {
	return &Runner{Max: max, Keep: keep, Now: now, jobs: map[string]*Job{}}
}

// Start runs run in the background under ctx (which should outlive the
// request that started it), then calls cleanup; it returns the job's id.
func (r *Runner) Start(ctx context.Context, what, by string, run Run, cleanup func()) (string, error) {
	r.mu.Lock()
	r.sweep()
	if r.running >= r.Max {
		r.mu.Unlock()
		return "", ErrBusy
	}
	id := newID()
	j := &Job{st: Status{ID: id, What: what, By: by, Started: r.Now()}}
	r.jobs[id] = j
	r.running++
	r.wg.Add(1)
	r.mu.Unlock()
	go func() {
		defer r.wg.Done()
		if cleanup != nil {
			defer cleanup()
		}
		rep, err := run(ctx, func(c Counts) {
			j.mu.Lock()
			j.st.Counts = c
			j.mu.Unlock()
		})
		j.mu.Lock()
		j.st.Done, j.st.Report, j.st.Err, j.st.Ended = true, rep, err, r.Now()
		j.mu.Unlock()
		r.mu.Lock()
		r.running--
		r.mu.Unlock()
	}()
	return id, nil
}

// Job is the job id, or nil when there is none (never started, or done
// longer ago than Keep).
func (r *Runner) Job(id string) *Job {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sweep()
	return r.jobs[id]
}

// Wait waits until every job has ended.
func (r *Runner) Wait() { r.wg.Wait() }

// sweep forgets the jobs done longer ago than Keep; r.mu is held.
func (r *Runner) sweep() {
	now := r.Now()
	for id, j := range r.jobs {
		j.mu.Lock()
		old := j.st.Done && now.Sub(j.st.Ended) > r.Keep
		j.mu.Unlock()
		if old {
			delete(r.jobs, id)
		}
	}
}

func newID() string {
	var b [12]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return hex.EncodeToString(b[:])
}
