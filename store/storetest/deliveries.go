package storetest

import (
	"maps"
	"testing"
	"time"
)

func runDeliveries(t *testing.T, open func(*testing.T) Harness) {
	t.Run("UnknownMessage", func(t *testing.T) { testUnknownMessage(t, open(t)) })
	t.Run("MarkThenRead", func(t *testing.T) { testMarkThenRead(t, open(t)) })
	t.Run("Expiry", func(t *testing.T) { testDeliveryExpiry(t, open(t)) })
	t.Run("NonPositiveTTL", func(t *testing.T) { testNonPositiveTTL(t, open(t)) })
	t.Run("HeldMarks", func(t *testing.T) { testHeldMarks(t, open(t)) })
}

func mustMark(t *testing.T, h Harness, msg, rcpt string) {
	t.Helper()
	if err := h.Store.MarkDelivered(t.Context(), msg, rcpt, h.ttl()); err != nil {
		t.Fatalf("MarkDelivered(%s, %s): %v", msg, rcpt, err)
	}
}

func delivered(t *testing.T, h Harness, msg string) map[string]bool {
	t.Helper()
	got, err := h.Store.Delivered(t.Context(), msg)
	if err != nil {
		t.Fatalf("Delivered(%s): %v", msg, err)
	}
	return got
}

func testUnknownMessage(t *testing.T, h Harness) {
	if got := delivered(t, h, "m-unknown"); got != nil {
		t.Fatalf("Delivered(unknown) = %v, want nil", got)
	}
}

func testMarkThenRead(t *testing.T, h Harness) {
	mustMark(t, h, "m1", "r1")
	mustMark(t, h, "m1", "r2")
	mustMark(t, h, "m1", "r1") // marking twice is harmless
	mustMark(t, h, "m2", "r3")
	want1 := map[string]bool{"r1": true, "r2": true}
	if got := delivered(t, h, "m1"); !maps.Equal(got, want1) {
		t.Fatalf("Delivered(m1) = %v, want %v", got, want1)
	}
	if got := delivered(t, h, "m2"); !maps.Equal(got, map[string]bool{"r3": true}) {
		t.Fatalf("Delivered(m2) = %v, want only r3", got)
	}
}

func testDeliveryExpiry(t *testing.T, h Harness) {
	mustMark(t, h, "m-exp", "r1")
	if h.Advance != nil {
		// A mark on another message must neither keep nor drop this one.
		mustMark(t, h, "m-other", "r1")
	}
	h.passTTL(t, h.ttl(), func() bool { return delivered(t, h, "m-exp")["r1"] })
	if got := delivered(t, h, "m-exp"); got != nil {
		t.Fatalf("Delivered after expiry = %v, want nil", got)
	}
	mustMark(t, h, "m-exp", "r2") // an expired message can be marked afresh
	if got := delivered(t, h, "m-exp"); !maps.Equal(got, map[string]bool{"r2": true}) {
		t.Fatalf("Delivered after a new mark = %v, want only r2", got)
	}
}

func testNonPositiveTTL(t *testing.T, h Harness) {
	for _, ttl := range []time.Duration{0, -time.Second} {
		if err := h.Store.MarkDelivered(t.Context(), "m", "r", ttl); err == nil {
			t.Fatalf("MarkDelivered with ttl %s succeeded", ttl)
		}
	}
	if got := delivered(t, h, "m"); got != nil {
		t.Fatalf("a refused mark left %v", got)
	}
}

// Marks made under HoldWrites are all there once flushed; a flush with
// nothing held, or a second one, does nothing and succeeds; a mark made
// after the flush is written at once.
func testHeldMarks(t *testing.T, h Harness) {
	ctx, flush := h.Store.HoldWrites(t.Context())
	for _, r := range []string{"r1", "r2"} {
		if err := h.Store.MarkDelivered(ctx, "m-held", r, h.ttl()); err != nil {
			t.Fatalf("held MarkDelivered(%s): %v", r, err)
		}
	}
	if err := flush(t.Context()); err != nil {
		t.Fatalf("flush: %v", err)
	}
	if got := delivered(t, h, "m-held"); !maps.Equal(got, map[string]bool{"r1": true, "r2": true}) {
		t.Fatalf("Delivered after the flush = %v, want r1 and r2", got)
	}
	if err := flush(t.Context()); err != nil {
		t.Fatalf("second flush: %v", err)
	}
	if err := h.Store.MarkDelivered(ctx, "m-held", "r3", h.ttl()); err != nil {
		t.Fatal(err)
	}
	if got := delivered(t, h, "m-held"); !got["r3"] {
		t.Fatalf("a mark after the flush is not written at once: %v", got)
	}
	_, empty := h.Store.HoldWrites(t.Context())
	if err := empty(t.Context()); err != nil {
		t.Fatalf("flush of nothing: %v", err)
	}
}
