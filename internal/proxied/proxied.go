// Package proxied reads the PROXY protocol header (HAProxy's, versions 1
// and 2) that a TCP load balancer sends ahead of each connection, so that
// limits and logs see the real client instead of the balancer.
package proxied

import (
	"bufio"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/pires/go-proxyproto"
)

const (
	// defaultHeaderTimeout bounds the wait for a header; a balancer sends
	// it at once.
	defaultHeaderTimeout = 5 * time.Second
	// defaultMaxPending bounds the connections waiting for their header,
	// so that idle sockets cannot pile up before any other limit sees them.
	defaultMaxPending = 256
)

// Options configure a listener.
type Options struct {
	// Trusted are the proxies allowed to connect and name the client;
	// every other peer is closed at once.
	Trusted       []netip.Prefix
	HeaderTimeout time.Duration // default 5 s
	MaxPending    int           // default 256
	Log           *slog.Logger  // default: discard
}

// Listener accepts connections from trusted proxies that start with a
// PROXY header. Accept returns them with the header read: RemoteAddr is
// the client the header names. Headers are read off the accepting
// goroutine, so a slow peer holds up nobody else.
type Listener struct {
	net.Listener
	o       Options
	conns   chan net.Conn
	pending chan struct{}
	done    chan struct{}
	stopped chan struct{} // closed when the inner Accept fails for good
	err     error         // that failure; read after stopped
	once    sync.Once
}

// Listen wraps ln.
func Listen(ln net.Listener, o Options) *Listener {
	if o.HeaderTimeout <= 0 {
		o.HeaderTimeout = defaultHeaderTimeout
	}
	if o.MaxPending <= 0 {
		o.MaxPending = defaultMaxPending
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	l := &Listener{Listener: ln, o: o, conns: make(chan net.Conn), pending: make(chan struct{}, o.MaxPending),
		done: make(chan struct{}), stopped: make(chan struct{})}
	go l.acceptLoop()
	return l
}

// Accept returns the next connection whose header was read.
func (l *Listener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.stopped:
		return nil, l.err
	}
}

// Close stops accepting; connections still waiting for a header are closed.
func (l *Listener) Close() error {
	l.once.Do(func() { close(l.done) })
	return l.Listener.Close()
}

func (l *Listener) acceptLoop() {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			l.err = err
			close(l.stopped)
			return
		}
		select {
		case l.pending <- struct{}{}:
			go l.handshake(c)
		default:
			l.o.Log.Warn("proxy protocol: too many connections waiting for a header", "peer", c.RemoteAddr().String())
			c.Close()
		}
	}
}

func (l *Listener) handshake(c net.Conn) {
	defer func() { <-l.pending }()
	pc, err := l.read(c)
	if err != nil {
		l.o.Log.Warn("proxy protocol: connection refused", "peer", c.RemoteAddr().String(), "err", err)
		c.Close()
		return
	}
	select {
	case l.conns <- pc:
	case <-l.done:
		pc.Close()
	}
}

// ErrUntrusted refuses a peer that is no trusted proxy.
var ErrUntrusted = errors.New("the peer is not a trusted proxy")

// read checks the peer and reads its header. A LOCAL header (the
// balancer's own health check) keeps the proxy as the client.
func (l *Listener) read(c net.Conn) (net.Conn, error) {
	peer := addrOf(c.RemoteAddr())
	if !contains(l.o.Trusted, peer) {
		return nil, ErrUntrusted
	}
	br := bufio.NewReader(c)
	h, err := proxyproto.ReadHeaderTimeout(c, br, l.o.HeaderTimeout)
	if err != nil {
		return nil, fmt.Errorf("no valid PROXY header: %w", err)
	}
	remote := c.RemoteAddr()
	if src, ok := h.SourceAddr.(*net.TCPAddr); ok && h.Command.IsProxy() {
		remote = src
	}
	return &conn{Conn: c, r: br, remote: remote}, nil
}

// conn is a connection after its header: reads start with what the
// header's reader buffered past it.
type conn struct {
	net.Conn
	r      *bufio.Reader
	remote net.Addr
}

func (c *conn) Read(p []byte) (int, error) { return c.r.Read(p) }
func (c *conn) RemoteAddr() net.Addr       { return c.remote }

func addrOf(a net.Addr) netip.Addr {
	if ap, err := netip.ParseAddrPort(a.String()); err == nil {
		return ap.Addr().Unmap()
	}
	return netip.Addr{}
}

func contains(nets []netip.Prefix, ip netip.Addr) bool {
	for _, p := range nets {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}
