package importjob

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func TestJobProgressAndReport(t *testing.T) {
	clk := &clock{t: time.Date(2026, 6, 15, 12, 0, 0, 0, time.UTC)}
	r := New(1, time.Hour, clk.now)
	step, release := make(chan struct{}), make(chan struct{})
	id, err := r.Start(context.Background(), "list be-dncm", "admin@corp.example", func(ctx context.Context, p func(Counts)) (any, error) {
		p(Counts{Rows: 100, Valid: 90, Invalid: 10})
		step <- struct{}{}
		<-release
		return "the report", nil
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	<-step
	clk.add(2 * time.Second)
	st := r.Job(id).Status(clk.now())
	if st.Done || st.Rows != 100 || st.Invalid != 10 || st.Rate != 50 {
		t.Errorf("while running: %+v; want 100 rows, 10 invalid, 50 rows/s", st)
	}
	if _, err := r.Start(context.Background(), "another", "x", nil, nil); !errors.Is(err, ErrBusy) {
		t.Errorf("a second import beside the first: %v, want ErrBusy", err)
	}
	close(release)
	r.Wait()
	st = r.Job(id).Status(clk.now())
	if !st.Done || st.Report != "the report" || st.Err != nil || st.Ended.IsZero() {
		t.Errorf("done: %+v", st)
	}
	clk.add(2 * time.Hour)
	if r.Job(id) != nil {
		t.Error("a job done longer ago than Keep is still there")
	}
	if r.Job("nope") != nil {
		t.Error("an unknown id finds a job")
	}
}

func TestJobFailureAndCleanup(t *testing.T) {
	r := New(2, time.Hour, time.Now)
	cleaned := make(chan struct{})
	id, err := r.Start(context.Background(), "contacts", "a", func(ctx context.Context, p func(Counts)) (any, error) {
		return "counts so far", errors.New("no valid row")
	}, func() { close(cleaned) })
	if err != nil {
		t.Fatal(err)
	}
	<-cleaned
	r.Wait()
	st := r.Job(id).Status(time.Now())
	if !st.Done || st.Err == nil || st.Report != "counts so far" {
		t.Errorf("a failed import: %+v", st)
	}
}
