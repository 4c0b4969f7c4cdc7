package relay

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dncgate/dncgate/smtpreply"
)

// turnAwayTimeout bounds the goodbye written to a refused connection.
const turnAwayTimeout = 10 * time.Second

// connTable knows every open client connection: it enforces the per-address
// limit, and lets Shutdown drain or close them all.
type connTable struct {
	max  int
	idle time.Duration
	life time.Duration

	mu       sync.Mutex
	perIP    map[netip.Addr]int
	all      map[*trackedConn]struct{}
	draining bool
}

func newConnTable(o Options) *connTable {
	return &connTable{
		max: o.MaxConnsPerIP, idle: o.ReadTimeout, life: o.SessionTimeout,
		perIP: map[netip.Addr]int{}, all: map[*trackedConn]struct{}{},
	}
}

// setLimits takes o's per-address limit and timeouts for the connections
// admitted from now on; those open keep theirs.
func (t *connTable) setLimits(o Options) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.max, t.idle, t.life = o.MaxConnsPerIP, o.ReadTimeout, o.SessionTimeout
}

// admit registers raw, or reports false when its address has too many
// connections open already.
func (t *connTable) admit(raw net.Conn) (*trackedConn, bool) {
	ip := peerAddr(raw.RemoteAddr())
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.perIP[ip] >= t.max {
		return nil, false
	}
	c := &trackedConn{Conn: raw, table: t, ip: ip, idle: t.idle, end: time.Now().Add(t.life)}
	t.perIP[ip]++
	t.all[c] = struct{}{}
	if t.draining {
		c.drain()
	}
	return c, true
}

func (t *connTable) release(c *trackedConn) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.all, c)
	if t.perIP[c.ip]--; t.perIP[c.ip] <= 0 {
		delete(t.perIP, c.ip)
	}
}

// drain asks every connection to end once its current transaction is over.
func (t *connTable) drain() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.draining = true
	for c := range t.all {
		c.drain()
	}
}

func (t *connTable) closeAll() {
	t.mu.Lock()
	conns := make([]*trackedConn, 0, len(t.all))
	for c := range t.all {
		conns = append(conns, c)
	}
	t.mu.Unlock()
	for _, c := range conns {
		c.Close()
	}
}

func (t *connTable) count() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.all)
}

// peerAddr is the client's IP, IPv4-mapped IPv6 unmapped so that trusted
// networks and counters see one form.
func peerAddr(a net.Addr) netip.Addr {
	if ap, err := netip.ParseAddrPort(a.String()); err == nil {
		return ap.Addr().Unmap()
	}
	return netip.Addr{}
}

// trackedConn is a client connection that enforces the idle and lifetime
// timeouts itself: go-smtp sets one read deadline per command line, which
// would cap a whole DATA transfer instead of the idle time between bytes.
type trackedConn struct {
	net.Conn
	table *connTable
	ip    netip.Addr
	idle  time.Duration
	end   time.Time // wall clock: socket deadlines cannot use a fake clock

	busy     atomic.Bool // inside a mail transaction
	draining atomic.Bool
	expired  atomic.Bool // a deadline passed; every later read fails at once
	once     sync.Once
}

// Read arms the deadline, the nearer of idle time and end of life. A
// draining connection between transactions reads as timed out, which makes
// go-smtp answer 421 and close.
func (c *trackedConn) Read(p []byte) (int, error) {
	if c.expired.Load() || (c.draining.Load() && !c.busy.Load()) {
		c.expired.Store(true)
		return 0, os.ErrDeadlineExceeded
	}
	deadline := c.end
	if t := time.Now().Add(c.idle); t.Before(deadline) {
		deadline = t
	}
	if err := c.Conn.SetReadDeadline(deadline); err != nil {
		return 0, err
	}
	n, err := c.Conn.Read(p)
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		c.expired.Store(true)
	}
	return n, err
}

func (c *trackedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() { c.table.release(c) })
	return err
}

// startTx marks the connection busy, or reports false when it is draining.
// busy is set before draining is read, and drain sets draining before it
// reads busy, so one of the two always sees the other.
func (c *trackedConn) startTx() bool {
	if c == nil {
		return true
	}
	c.busy.Store(true)
	if c.draining.Load() {
		c.busy.Store(false)
		return false
	}
	return true
}

func (c *trackedConn) endTx() {
	if c != nil {
		c.busy.Store(false)
	}
}

// drain wakes a read blocked between transactions; a busy one goes on.
func (c *trackedConn) drain() {
	c.draining.Store(true)
	if !c.busy.Load() {
		_ = c.Conn.SetReadDeadline(time.Now())
	}
}

// limitListener admits connections through the connTable and, for implicit
// TLS, wraps them in TLS itself, so that go-smtp still sees a *tls.Conn.
type limitListener struct {
	net.Listener
	table    *connTable
	tls      *tls.Config // implicit TLS only
	hostname string
	log      *slog.Logger
}

func (l *limitListener) Accept() (net.Conn, error) {
	for {
		raw, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		c, ok := l.table.admit(raw)
		if !ok {
			go l.turnAway(raw)
			continue
		}
		if l.tls != nil {
			return tls.Server(c, l.tls), nil
		}
		return c, nil
	}
}

// turnAway answers 421 before closing (RFC 5321 §3.1: a server may refuse
// a connection with a 421 greeting).
func (l *limitListener) turnAway(raw net.Conn) {
	defer raw.Close()
	ip := peerAddr(raw.RemoteAddr())
	l.log.Warn("connection refused", "client", ip.String(), "reason", "too many connections from this address")
	_ = raw.SetDeadline(time.Now().Add(turnAwayTimeout))
	var w net.Conn = raw
	if l.tls != nil {
		w = tls.Server(raw, l.tls)
	}
	fmt.Fprintf(w, "%d 4.7.0 %s Too many connections from your address, try later\r\n", smtpreply.CodeClosing, l.hostname)
}
