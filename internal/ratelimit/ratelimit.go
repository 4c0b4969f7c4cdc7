// Package ratelimit counts requests per client in fixed windows, for the
// HTTP endpoints that anyone on the network can reach.
package ratelimit

import (
	"net"
	"net/netip"
	"sync"
	"time"
)

// maxTracked bounds the clients counted in one window. Past it, new
// clients are let through uncounted: the limit protects the store from
// one busy client, and a flood from that many addresses would get past a
// per-address limit anyway.
const maxTracked = 1 << 16

// Limiter allows a number of requests per client and window. Windows are
// aligned on the clock and the whole table is dropped when one ends, so
// memory stays bounded by the clients of one window.
type Limiter struct {
	rate   int
	window time.Duration

	mu     sync.Mutex
	start  time.Time // of the current window
	counts map[string]int
}

// New allows rate requests per client in each window.
func New(rate int, window time.Duration) *Limiter {
	return &Limiter{rate: rate, window: window, counts: make(map[string]int)}
}

// Allow counts one request from client at now. When the client is over
// the rate it returns false and how long until the window ends.
func (l *Limiter) Allow(client string, now time.Time) (time.Duration, bool) {
	start := now.Truncate(l.window)
	l.mu.Lock()
	defer l.mu.Unlock()
	if !start.Equal(l.start) {
		l.start = start
		clear(l.counts)
	}
	n, seen := l.counts[client]
	if !seen && len(l.counts) >= maxTracked {
		return 0, true
	}
	if n >= l.rate {
		return start.Add(l.window).Sub(now), false
	}
	l.counts[client] = n + 1
	return 0, true
}

// ClientKey is what limits count by: the client's IP address from an
// http.Request's RemoteAddr, or its /64 for IPv6, where one subscriber
// usually holds a whole /64.
func ClientKey(remoteAddr string) string {
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		host = remoteAddr
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	ip = ip.Unmap()
	if ip.Is6() {
		p, _ := ip.Prefix(64)
		return p.String()
	}
	return ip.String()
}
