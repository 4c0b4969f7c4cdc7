// Package ratelimit counts requests per client in fixed windows, for the
// HTTP endpoints that anyone on the network can reach. X-Forwarded-For is
// believed only from the proxies the caller trusts, none by default.
package ratelimit

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"
)

// maxTracked bounds the clients counted one by one in a window. Past it,
// every client not yet counted shares one count with the same limit: a
// full table (which takes no credentials to fill) makes newcomers share a
// strict limit, never go uncounted.
const maxTracked = 1 << 16

// Limiter allows a number of requests per client and window. Windows are
// aligned on the clock and the whole table is dropped when one ends, so
// memory stays bounded by the clients of one window.
type Limiter struct {
	rate   int
	window time.Duration

	mu       sync.Mutex
	start    time.Time // of the current window
	counts   map[string]int
	overflow int // requests of the clients past maxTracked, together
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
		l.overflow = 0
	}
	n, seen := l.counts[client]
	count := func(n int) { l.counts[client] = n }
	if !seen && len(l.counts) >= maxTracked {
		n, count = l.overflow, func(n int) { l.overflow = n }
	}
	if n >= l.rate {
		return start.Add(l.window).Sub(now), false
	}
	count(n + 1)
	return 0, true
}

// ClientKey is what a limit counts a request by: the client's IP
// address, or its /64 for IPv6, where one subscriber usually holds a whole
// /64.
func ClientKey(r *http.Request, trusted []netip.Prefix) string {
	ip, ok := clientAddr(r, trusted)
	if !ok {
		return r.RemoteAddr
	}
	if ip.Is6() {
		p, _ := ip.Prefix(64)
		return p.String()
	}
	return ip.String()
}

// ClientAddr is the client's address as ClientKey finds it; the zero
// Addr when the peer's cannot be read.
func ClientAddr(r *http.Request, trusted []netip.Prefix) netip.Addr {
	ip, _ := clientAddr(r, trusted)
	return ip
}

// clientAddr is the peer's address or, when the peer is a trusted proxy,
// the last address of X-Forwarded-For that is no trusted proxy: those
// before it are the client's own word, which anyone can forge.
func clientAddr(r *http.Request, trusted []netip.Prefix) (netip.Addr, bool) {
	ip, ok := parseIP(r.RemoteAddr)
	if !ok || !isTrusted(ip, trusted) {
		return ip, ok
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		hop, ok := parseIP(strings.TrimSpace(hops[i]))
		if !ok {
			break
		}
		ip = hop
		if !isTrusted(hop, trusted) {
			break
		}
	}
	return ip, true
}

// parseIP reads "host:port" or a bare address.
func parseIP(s string) (netip.Addr, bool) {
	if host, _, err := net.SplitHostPort(s); err == nil {
		s = host
	}
	ip, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}, false
	}
	return ip.Unmap().WithZone(""), true
}

func isTrusted(ip netip.Addr, trusted []netip.Prefix) bool {
	for _, p := range trusted {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}
