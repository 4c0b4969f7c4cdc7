package ratelimit

import (
	"net/http/httptest"
	"net/netip"
	"strconv"
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

// TestLimiterFullTable: once the table holds maxTracked clients, a fresh
// client is still limited: the newcomers share one count at the rate.
func TestLimiterFullTable(t *testing.T) {
	const rate = 30
	l := New(rate, time.Minute)
	t0 := time.Date(2026, 11, 29, 12, 0, 10, 0, time.UTC)
	for i := range maxTracked + 1 {
		l.Allow("filler-"+strconv.Itoa(i), t0) // the last one is counted with the newcomers
	}
	allowed := 0
	for range 200 {
		if _, ok := l.Allow("fresh", t0); ok {
			allowed++
		}
	}
	if allowed > rate {
		t.Fatalf("a fresh client past a full table got %d of 200 requests, want at most %d", allowed, rate)
	}
	if _, ok := l.Allow("another-fresh", t0); ok {
		t.Fatal("newcomers past a full table are not limited together")
	}
	if _, ok := l.Allow("filler-1", t0); !ok {
		t.Fatal("a client counted on its own shares the newcomers' limit")
	}
	if _, ok := l.Allow("fresh", t0.Add(time.Minute)); !ok {
		t.Fatal("the shared count outlived its window")
	}
}

var loopback = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}

func TestClientKey(t *testing.T) {
	for _, tc := range []struct {
		remote, xff string
		trusted     []netip.Prefix
		want        string
	}{
		{"192.0.2.7:5555", "", loopback, "192.0.2.7"},
		{"[::ffff:192.0.2.7]:1", "", loopback, "192.0.2.7"},
		{"[2001:db8:1:2:3::4]:443", "", loopback, "2001:db8:1:2::/64"},
		// A trusted proxy passes the client on; what the client itself
		// claimed before it is not believed.
		{"127.0.0.1:9000", "10.9.9.9, 198.51.100.4", loopback, "198.51.100.4"},
		// A client that is no proxy cannot choose its own key.
		{"192.0.2.7:5555", "198.51.100.4", loopback, "192.0.2.7"},
		// No proxy is trusted unless configured, not even a local one.
		{"127.0.0.1:9000", "198.51.100.4", nil, "127.0.0.1"},
		{"10.0.0.5:9000", "198.51.100.4", []netip.Prefix{netip.MustParsePrefix("10.0.0.0/24")}, "198.51.100.4"},
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = tc.remote
		if tc.xff != "" {
			r.Header.Set("X-Forwarded-For", tc.xff)
		}
		if got := ClientKey(r, tc.trusted); got != tc.want {
			t.Errorf("ClientKey(%q, XFF %q, %v) = %q, want %q", tc.remote, tc.xff, tc.trusted, got, tc.want)
		}
	}
}
