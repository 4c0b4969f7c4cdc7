package storetest

import (
	"errors"
	"fmt"
	"maps"
	"strings"
	"sync"
	"testing"

	"github.com/dncgate/dncgate/store"
)

func runConcurrency(t *testing.T, open func(*testing.T) Harness) {
	t.Run("Hit", func(t *testing.T) { testConcurrentHit(t, open(t)) })
	t.Run("AddSameUser", func(t *testing.T) { testConcurrentAdd(t, open(t)) })
	t.Run("MarkSameMessage", func(t *testing.T) { testConcurrentMark(t, open(t)) })
}

// parallel runs f(0..n-1) in n goroutines released together, and returns
// their errors by index.
func parallel(n int, f func(i int) error) []error {
	errs := make([]error, n)
	var start, done sync.WaitGroup
	start.Add(1)
	for i := range n {
		done.Go(func() {
			start.Wait()
			errs[i] = f(i)
		})
	}
	start.Done()
	done.Wait()
	return errs
}

func testConcurrentHit(t *testing.T, h Harness) {
	const n = 50
	got := make([]int64, n)
	errs := parallel(n, func(i int) (err error) {
		got[i], err = h.Store.Hit(t.Context(), "shared", h.ttl()*20)
		return err
	})
	if err := errors.Join(errs...); err != nil {
		t.Fatalf("concurrent Hit: %v", err)
	}
	// Each hit must see a distinct count: no two read the same old value.
	seen := map[int64]bool{}
	for _, c := range got {
		seen[c] = true
	}
	for c := int64(1); c <= n; c++ {
		if !seen[c] {
			t.Fatalf("no Hit returned %d; returned %v", c, got)
		}
	}
	if c := count(t, h, "shared"); c != n {
		t.Fatalf("Count after %d concurrent hits = %d", n, c)
	}
}

func testConcurrentAdd(t *testing.T, h Harness) {
	const n = 20
	errs := parallel(n, func(i int) error {
		u := alice()
		u.Email = "Dup@Example.fr"
		if i%2 == 1 {
			u.Email = strings.ToLower(u.Email)
		}
		u.SendAs = []string{fmt.Sprintf("w%d@example.fr", i)}
		return h.Store.AddUser(t.Context(), u)
	})
	var ok int
	for i, err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, store.ErrExists):
			t.Fatalf("AddUser #%d: %v, want nil or ErrExists", i, err)
		}
	}
	if ok != 1 {
		t.Fatalf("%d of %d concurrent AddUser of one email succeeded, want exactly 1", ok, n)
	}
	if got := mustGet(t, h.Store, "dup@example.fr"); len(got.SendAs) != 1 {
		t.Fatalf("winner's SendAs = %q, want one writer's value, not a mix", got.SendAs)
	}
}

func testConcurrentMark(t *testing.T, h Harness) {
	const n = 20
	want := map[string]bool{}
	for i := range n {
		want[fmt.Sprintf("r%d", i)] = true
	}
	errs := parallel(n, func(i int) error {
		return h.Store.MarkDelivered(t.Context(), "m", fmt.Sprintf("r%d", i), h.ttl()*20)
	})
	if err := errors.Join(errs...); err != nil {
		t.Fatalf("concurrent MarkDelivered: %v", err)
	}
	if got := delivered(t, h, "m"); !maps.Equal(got, want) {
		t.Fatalf("Delivered after %d concurrent marks = %d entries, want %d", n, len(got), n)
	}
}
