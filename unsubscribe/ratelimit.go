package unsubscribe

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
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

// DefaultTrustedProxies are the proxies whose X-Forwarded-For is believed
// when Options.TrustedProxies is nil: a reverse proxy on the same host.
var DefaultTrustedProxies = []netip.Prefix{
	netip.MustParsePrefix("127.0.0.0/8"),
	netip.MustParsePrefix("::1/128"),
}

// clientKey is what the limit counts a request by: the client's IP
// address, or its /64 for IPv6, where one subscriber usually holds a whole
// /64.
func clientKey(r *http.Request, trusted []netip.Prefix) string {
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
