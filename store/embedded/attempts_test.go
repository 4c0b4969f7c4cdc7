package embedded_test

import (
	"context"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dncgate/dncgate/store"
)

// TestAttemptsTwoHandles: two stores on one file (two gateway processes,
// say) reserve attempts atomically together: no more than the limit get
// through between them.
func TestAttemptsTwoHandles(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dncgate.db")
	a, b := openAt(t, path), openAt(t, path)
	var counted atomic.Int64
	var wg sync.WaitGroup
	for i := range 100 {
		s := a
		if i%2 == 1 {
			s = b
		}
		wg.Go(func() {
			keys := []store.AttemptKey{{Key: "auth:pair:x", Limit: 10}, {Key: "auth:client:x", Limit: 1000}}
			_, ok, err := s.ReserveAttempt(context.Background(), keys, time.Hour)
			if err != nil {
				t.Error(err)
			}
			if ok {
				counted.Add(1)
			}
		})
	}
	wg.Wait()
	if counted.Load() != 10 {
		t.Fatalf("%d attempts got through two handles, want 10", counted.Load())
	}
}
