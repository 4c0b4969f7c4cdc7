package unsubscribe

import (
	"net"
	"net/netip"
	"sync"
	"time"
)

// rateWindow is the period the per-client limit counts over.
const rateWindow = time.Minute

// maxTracked bounds the clients counted in one window. Past it, new
// clients are let through uncounted: the limit protects the store from
// one busy client, and a flood from that many addresses would get past
// a per-address limit anyway.
const maxTracked = 1 << 16

// limiter counts requests per client in fixed windows aligned on the
// clock; the whole table is dropped when a window ends, so memory stays
// bounded by the clients of one window.
type limiter struct {
	rate int

	mu     sync.Mutex
	window time.Time // start of the current window
	counts map[string]int
}

func newLimiter(rate int) *limiter {
	return &limiter{rate: rate, counts: make(map[string]int)}
}

// allow counts one request from client at now. When the client is over
// the rate it returns false and how long until the window ends.
func (l *limiter) allow(client string, now time.Time) (time.Duration, bool) {
	start := now.Truncate(rateWindow)
	l.mu.Lock()
	defer l.mu.Unlock()
	if !start.Equal(l.window) {
		l.window = start
		clear(l.counts)
	}
	n, seen := l.counts[client]
	if !seen && len(l.counts) >= maxTracked {
		return 0, true
	}
	if n >= l.rate {
		return start.Add(rateWindow).Sub(now), false
	}
	l.counts[client] = n + 1
	return 0, true
}

// clientKey is what the limit counts by: the client's IP address, or its
// /64 for IPv6, where one subscriber usually holds a whole /64.
func clientKey(remoteAddr string) string {
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
