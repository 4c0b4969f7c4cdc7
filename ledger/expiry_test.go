package ledger

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

type expiring struct {
	Ledger
	mu    sync.Mutex
	calls []time.Time
	fired chan struct{}
}

func (e *expiring) Expire(_ context.Context, now time.Time) (Expired, error) {
	e.mu.Lock()
	e.calls = append(e.calls, now)
	n := len(e.calls)
	e.mu.Unlock()
	if n == 3 {
		close(e.fired)
	}
	return Expired{Sent: 2, Refused: 1, Partitions: 1}, nil
}

// The loop runs at once, then every interval, with the clock it is given,
// and logs the counts.
func TestRunExpiry(t *testing.T) {
	l := &expiring{fired: make(chan struct{})}
	var buf bytes.Buffer
	var mu sync.Mutex
	log := slog.New(slog.NewTextHandler(writerFunc(func(p []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		return buf.Write(p)
	}), nil))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { RunExpiry(ctx, l, time.Millisecond, func() time.Time { return t0 }, log); close(done) }()
	<-l.fired
	cancel()
	<-done
	for _, c := range l.calls {
		if !c.Equal(t0) {
			t.Errorf("Expire called with %v, want the injected clock's %v", c, t0)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if !strings.Contains(buf.String(), "sent=2 refused=1 audit=0 partitions_dropped=1") {
		t.Errorf("log lacks the counts:\n%s", buf.String())
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }
