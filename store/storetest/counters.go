package storetest

import (
	"testing"
	"time"
)

func runCounters(t *testing.T, open func(*testing.T) Harness) {
	t.Run("HitCountsUp", func(t *testing.T) { testHitCountsUp(t, open(t)) })
	t.Run("WindowExpiry", func(t *testing.T) { testWindowExpiry(t, open(t)) })
	t.Run("WindowStartsAtFirstHit", func(t *testing.T) { testWindowFixed(t, open(t)) })
	t.Run("Reset", func(t *testing.T) { testReset(t, open(t)) })
	t.Run("NonPositiveWindow", func(t *testing.T) { testNonPositiveWindow(t, open(t)) })
}

func hit(t *testing.T, h Harness, key string, window time.Duration) int64 {
	t.Helper()
	n, err := h.Store.Hit(t.Context(), key, window)
	if err != nil {
		t.Fatalf("Hit(%s): %v", key, err)
	}
	return n
}

func count(t *testing.T, h Harness, key string) int64 {
	t.Helper()
	n, err := h.Store.Count(t.Context(), key)
	if err != nil {
		t.Fatalf("Count(%s): %v", key, err)
	}
	return n
}

func testHitCountsUp(t *testing.T, h Harness) {
	if n := count(t, h, "k"); n != 0 {
		t.Fatalf("Count before any hit = %d", n)
	}
	for want := int64(1); want <= 3; want++ {
		if n := hit(t, h, "k", h.ttl()); n != want {
			t.Fatalf("Hit = %d, want %d", n, want)
		}
	}
	if n := count(t, h, "k"); n != 3 {
		t.Fatalf("Count = %d, want 3", n)
	}
	if n := count(t, h, "other"); n != 0 {
		t.Fatalf("Count(other key) = %d, want 0", n)
	}
}

func testWindowExpiry(t *testing.T, h Harness) {
	hit(t, h, "k", h.ttl())
	hit(t, h, "k", h.ttl())
	h.passTTL(t, h.ttl(), func() bool { return count(t, h, "k") > 0 })
	if n := hit(t, h, "k", h.ttl()); n != 1 {
		t.Fatalf("first Hit of a new window = %d, want 1", n)
	}
}

// testWindowFixed checks that later hits do not push the window's end: the
// window is fixed at the first hit, not sliding. It needs a movable clock;
// in real time the same property is checked by the implementation's own
// tests (for Redis, the key's TTL).
func testWindowFixed(t *testing.T, h Harness) {
	if h.Advance == nil {
		t.Log("real-time store: checked by the implementation's own TTL test")
		return
	}
	const window = time.Minute
	hit(t, h, "k", window)
	h.Advance(40 * time.Second)
	if n := hit(t, h, "k", window); n != 2 {
		t.Fatalf("second Hit inside the window = %d, want 2", n)
	}
	h.Advance(30 * time.Second) // 70 s after the first hit, 30 s after the second
	if n := count(t, h, "k"); n != 0 {
		t.Fatalf("Count 70s into a 60s window = %d, want 0 (window slid with the hits)", n)
	}
}

func testReset(t *testing.T, h Harness) {
	hit(t, h, "k", h.ttl())
	hit(t, h, "k2", h.ttl())
	if err := h.Store.ResetCount(t.Context(), "k"); err != nil {
		t.Fatalf("ResetCount: %v", err)
	}
	if n := count(t, h, "k"); n != 0 {
		t.Fatalf("Count after reset = %d, want 0", n)
	}
	if n := count(t, h, "k2"); n != 1 {
		t.Fatalf("reset of k changed k2 to %d", n)
	}
	if n := hit(t, h, "k", h.ttl()); n != 1 {
		t.Fatalf("Hit after reset = %d, want 1", n)
	}
	if err := h.Store.ResetCount(t.Context(), "never-hit"); err != nil {
		t.Fatalf("ResetCount of an absent key: %v", err)
	}
}

func testNonPositiveWindow(t *testing.T, h Harness) {
	for _, w := range []time.Duration{0, -time.Second} {
		if _, err := h.Store.Hit(t.Context(), "k", w); err == nil {
			t.Fatalf("Hit with window %s succeeded", w)
		}
	}
	if n := count(t, h, "k"); n != 0 {
		t.Fatalf("refused hits counted %d", n)
	}
}
