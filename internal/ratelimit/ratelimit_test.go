package ratelimit

import (
	"net/http/httptest"
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
	for _, tc := range []struct{ remote, xff, want string }{
		{"192.0.2.7:5555", "", "192.0.2.7"},
		{"[::ffff:192.0.2.7]:1", "", "192.0.2.7"},
		{"[2001:db8:1:2:3::4]:443", "", "2001:db8:1:2::/64"},
		// A local proxy passes the client on; what the client itself
		// claimed before it is not believed.
		{"127.0.0.1:9000", "10.9.9.9, 198.51.100.4", "198.51.100.4"},
		// A client that is no proxy cannot choose its own key.
		{"192.0.2.7:5555", "198.51.100.4", "192.0.2.7"},
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = tc.remote
		if tc.xff != "" {
			r.Header.Set("X-Forwarded-For", tc.xff)
		}
		if got := ClientKey(r, LocalProxies); got != tc.want {
			t.Errorf("ClientKey(%q, XFF %q) = %q, want %q", tc.remote, tc.xff, got, tc.want)
		}
	}
}
