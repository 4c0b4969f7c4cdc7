package ratelimit

import (
	"testing"
	"time"
)

func TestLimiterWindows(t *testing.T) {
	l := New(2, time.Minute)
	t0 := time.Date(2026, 11, 29, 12, 0, 10, 0, time.UTC)
	for i := range 2 {
		if _, ok := l.Allow("a", t0); !ok {
			t.Fatalf("request %d refused", i+1)
		}
	}
	wait, ok := l.Allow("a", t0)
	if ok || wait != 50*time.Second {
		t.Fatalf("third request: ok=%v wait=%v, want refused for 50s", ok, wait)
	}
	if _, ok := l.Allow("b", t0); !ok {
		t.Fatal("another client was refused")
	}
	if _, ok := l.Allow("a", t0.Add(50*time.Second)); !ok {
		t.Fatal("refused in the next window")
	}
}

func TestClientKey(t *testing.T) {
	for in, want := range map[string]string{
		"192.0.2.7:5555":          "192.0.2.7",
		"[::ffff:192.0.2.7]:1":    "192.0.2.7",
		"[2001:db8:1:2:3::4]:443": "2001:db8:1:2::/64",
		"not an address":          "not an address",
	} {
		if got := ClientKey(in); got != want {
			t.Errorf("ClientKey(%q) = %q, want %q", in, got, want)
		}
	}
}
