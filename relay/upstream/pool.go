package upstream

import (
	"net"
	"sync"
	"time"

	"github.com/emersion/go-smtp"
)

// upConn is one greeted, and when configured authenticated, upstream
// connection with no transaction open.
type upConn struct {
	c         *smtp.Client
	raw       net.Conn // the TCP connection under any TLS layer
	wire      *wire    // the connection inside TLS, for pipelined transactions
	tls       bool
	idleSince time.Time
}

// close drops the connection without QUIT: it is either broken or idle, and
// RFC 5321 §4.1.1.10 lets the server cope with a client that just leaves.
func (u *upConn) close() { u.c.Close() }

// pool keeps idle connections, newest last, so that the oldest age out first.
// Expired connections are closed lazily, on the next get or put.
type pool struct {
	mu      sync.Mutex
	idle    []*upConn
	maxIdle int
	timeout time.Duration
	closed  bool
}

func newPool(maxIdle int, timeout time.Duration) *pool {
	return &pool{maxIdle: maxIdle, timeout: timeout}
}

// get returns the most recently used idle connection that has not expired at
// now, or nil.
func (p *pool) get(now time.Time) *upConn {
	p.mu.Lock()
	expired := p.expire(now)
	var u *upConn
	if n := len(p.idle); n > 0 {
		u = p.idle[n-1]
		p.idle = p.idle[:n-1]
	}
	p.mu.Unlock()
	closeAll(expired)
	return u
}

// put makes u available again, or closes it when the pool is closed or full.
func (p *pool) put(u *upConn, now time.Time) {
	u.idleSince = now
	p.mu.Lock()
	expired := p.expire(now)
	keep := !p.closed && len(p.idle) < p.maxIdle
	if keep {
		p.idle = append(p.idle, u)
	}
	p.mu.Unlock()
	closeAll(expired)
	if !keep {
		u.close()
	}
}

// expire removes the connections idle for timeout or more; p.mu is held.
func (p *pool) expire(now time.Time) []*upConn {
	n := 0
	for n < len(p.idle) && !now.Before(p.idle[n].idleSince.Add(p.timeout)) {
		n++
	}
	old := append([]*upConn(nil), p.idle[:n]...)
	p.idle = append(p.idle[:0], p.idle[n:]...)
	return old
}

// close closes every idle connection; later puts close theirs.
func (p *pool) close() {
	p.mu.Lock()
	idle := p.idle
	p.idle, p.closed = nil, true
	p.mu.Unlock()
	closeAll(idle)
}

func closeAll(us []*upConn) {
	for _, u := range us {
		u.close()
	}
}
