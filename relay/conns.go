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

	"github.com/dncgate/dncgate/internal/connlimit"
	"github.com/dncgate/dncgate/smtpreply"
)

// turnAwayTimeout bounds the goodbye written to a refused connection.
const turnAwayTimeout = 10 * time.Second

// maxTurningAway bounds the refused connections being answered at once;
// past it a refused connection is closed without a word, so that a flood
// at the limit holds no more descriptors than this.
const maxTurningAway = 64

// connTable knows every open client connection: it enforces the global and
// per-client limits, and lets Shutdown drain or close them all.
type connTable struct {
	limits  *connlimit.Table
	turning chan struct{} // slots of the refused connections being answered

	mu       sync.Mutex
	preAuth  time.Duration // idle time allowed before AUTH
	idle     time.Duration // after AUTH
	life     time.Duration
	all      map[*trackedConn]struct{}
	draining bool
}

func newConnTable(o Options) *connTable {
	return &connTable{
		limits:  connlimit.New(o.MaxConns, o.MaxConnsPerIP),
		preAuth: o.PreAuthTimeout, idle: o.ReadTimeout, life: o.SessionTimeout,
		turning: make(chan struct{}, maxTurningAway),
		all:     map[*trackedConn]struct{}{},
	}
}

// setLimits takes o's timeouts for the connections admitted from now on;
// those open keep theirs. The connection limits stay as the server
// started.
func (t *connTable) setLimits(o Options) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.preAuth, t.idle, t.life = o.PreAuthTimeout, o.ReadTimeout, o.SessionTimeout
}

// admit registers raw, or reports why it may not be let in.
func (t *connTable) admit(raw net.Conn) (*trackedConn, connlimit.Refusal) {
	ip := connlimit.Peer(raw.RemoteAddr())
	if r := t.limits.Take(ip); r != connlimit.Admitted {
		return nil, r
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	c := &trackedConn{Conn: raw, table: t, ip: ip, authIdle: t.idle, end: time.Now().Add(t.life)}
	c.idle.Store(int64(t.preAuth))
	t.all[c] = struct{}{}
	if t.draining {
		c.drain()
	}
	return c, connlimit.Admitted
}

func (t *connTable) release(c *trackedConn) {
	t.mu.Lock()
	delete(t.all, c)
	t.mu.Unlock()
	t.limits.Give(c.ip)
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

// trackedConn is a client connection that enforces the idle and lifetime
// timeouts itself: go-smtp sets one read deadline per command line, which
// would cap a whole DATA transfer instead of the idle time between bytes.
type trackedConn struct {
	net.Conn
	table    *connTable
	ip       netip.Addr
	idle     atomic.Int64  // a time.Duration: the pre-AUTH timeout until authenticated
	authIdle time.Duration // idle once authenticated
	end      time.Time     // wall clock: socket deadlines cannot use a fake clock
	strikes  strikes

	busy     atomic.Bool // inside a mail transaction
	draining atomic.Bool
	expired  atomic.Bool // a deadline passed; every later read fails at once
	hangUp   atomic.Bool // close once the next reply is written
	once     sync.Once

	wmu sync.Mutex
	out []byte // replies not yet written
}

// Read arms the deadline, the nearer of idle time and end of life. A
// draining connection between transactions reads as timed out, which makes
// go-smtp answer 421 and close.
func (c *trackedConn) Read(p []byte) (int, error) {
	if err := c.flush(); err != nil {
		return 0, err
	}
	if c.expired.Load() || (c.draining.Load() && !c.busy.Load()) {
		c.expired.Store(true)
		return 0, os.ErrDeadlineExceeded
	}
	deadline := c.end
	if t := time.Now().Add(time.Duration(c.idle.Load())); t.Before(deadline) {
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

// Write keeps a reply until the next read, so that the replies to
// pipelined commands (RFC 2920 §3.2) and the lines of a multi-line reply,
// which go-smtp writes one call each, leave in one write. go-smtp reads
// the socket only when its own buffer holds no command, so a reply waits
// only while the commands already received are being answered. Close
// flushes too; a hang-up closes, flushing, once the reply is in.
func (c *trackedConn) Write(p []byte) (int, error) {
	c.wmu.Lock()
	c.out = append(c.out, p...)
	var err error
	if len(c.out) >= maxPendingReplies {
		err = c.flushLocked()
	}
	c.wmu.Unlock()
	if c.hangUp.Load() {
		c.Close()
	}
	if err != nil {
		return 0, err
	}
	return len(p), nil
}

// SetWriteDeadline writes what is kept back under the deadline it
// replaces: crypto/tls, closing, sets one and then another in the past,
// which would strand a last reply (221 to QUIT) still held here.
func (c *trackedConn) SetWriteDeadline(t time.Time) error {
	c.flush()
	return c.Conn.SetWriteDeadline(t)
}

func (c *trackedConn) SetDeadline(t time.Time) error {
	c.flush()
	return c.Conn.SetDeadline(t)
}

// maxPendingReplies bounds the replies kept back, in bytes.
const maxPendingReplies = 4096

func (c *trackedConn) flush() error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return c.flushLocked()
}

func (c *trackedConn) flushLocked() error {
	if len(c.out) == 0 {
		return nil
	}
	_, err := c.Conn.Write(c.out)
	c.out = c.out[:0]
	return err
}

// hangUpAfterReply closes the connection once the reply being made is
// written.
func (c *trackedConn) hangUpAfterReply() {
	if c != nil {
		c.hangUp.Store(true)
	}
}

// authenticated lets the connection stay idle as long as an authenticated
// one may.
func (c *trackedConn) authenticated() {
	if c != nil {
		c.idle.Store(int64(c.authIdle))
	}
}

// Close writes the replies kept back, unless a write is stuck on a client
// that stopped reading: closing is then what unblocks it.
func (c *trackedConn) Close() error {
	if c.wmu.TryLock() {
		c.flushLocked()
		c.wmu.Unlock()
	}
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
		c, r := l.table.admit(raw)
		if r != connlimit.Admitted {
			l.refuse(raw, r)
			continue
		}
		if l.tls != nil {
			return tls.Server(c, l.tls), nil
		}
		return c, nil
	}
}

// refuse answers a connection over a limit on a goroutine of its own, so
// that accepting goes on, or closes it at once when too many are being
// answered already.
func (l *limitListener) refuse(raw net.Conn, r connlimit.Refusal) {
	select {
	case l.table.turning <- struct{}{}:
		go func() {
			defer func() { <-l.table.turning }()
			l.turnAway(raw, r)
		}()
	default:
		raw.Close()
	}
}

// turnAway answers 421 before closing (RFC 5321 §3.1: a server may refuse
// a connection with a 421 greeting).
func (l *limitListener) turnAway(raw net.Conn, r connlimit.Refusal) {
	defer raw.Close()
	ip := connlimit.Peer(raw.RemoteAddr())
	st, text, reason := smtpreply.TooManyConns, "Too many connections, try again later", "too many connections"
	if r == connlimit.ClientFull {
		text, reason = "Too many connections from your address, try later", "too many connections from this address"
	}
	l.log.Warn("connection refused", "client", ip.String(), "reason", reason)
	_ = raw.SetDeadline(time.Now().Add(turnAwayTimeout))
	var w net.Conn = raw
	if l.tls != nil {
		w = tls.Server(raw, l.tls)
	}
	fmt.Fprintf(w, "%d %d.%d.%d %s %s\r\n", st.Code, st.Enhanced[0], st.Enhanced[1], st.Enhanced[2], l.hostname, text)
}
