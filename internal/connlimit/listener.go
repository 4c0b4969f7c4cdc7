package connlimit

import (
	"fmt"
	"net"
	"sync"
	"time"
)

// Answering refused connections: at most maxTurningAway at once, with the
// reply 421 (RFC 5321 §3.8).
const (
	maxTurningAway   = 16
	codeTooManyConns = 421
)

// Listener answers connections beyond its limits with 421 and closes
// them, so that a flood cannot hold more than its total of sessions, nor
// one client network more than its share.
type Listener struct {
	net.Listener
	table   *Table
	turning chan struct{} // slots of the refused connections being answered
}

// NewListener wraps ln with a Table of total connections and perClient
// per client network.
func NewListener(ln net.Listener, total, perClient int) *Listener {
	return &Listener{Listener: ln, table: New(total, perClient), turning: make(chan struct{}, maxTurningAway)}
}

// Accept returns the next admitted connection; its Close gives the slot
// back.
func (l *Listener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		ip := Peer(c.RemoteAddr())
		r := l.table.Take(ip)
		if r == Admitted {
			return &slotConn{Conn: c, release: func() { l.table.Give(ip) }}, nil
		}
		select {
		case l.turning <- struct{}{}:
			go func() {
				defer func() { <-l.turning }()
				refuseBusy(c, r)
			}()
		default:
			c.Close() // too many being answered already
		}
	}
}

// refuseBusy tells a client over a limit to come back (RFC 5321 §3.8).
func refuseBusy(c net.Conn, r Refusal) {
	text := "Too many connections, try again later"
	if r == ClientFull {
		text = "Too many connections from your address, try again later"
	}
	c.SetWriteDeadline(time.Now().Add(time.Second))
	fmt.Fprintf(c, "%d 4.7.0 %s\r\n", codeTooManyConns, text)
	c.Close()
}

// slotConn gives its slot back once, when closed.
type slotConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *slotConn) Close() error {
	c.once.Do(c.release)
	return c.Conn.Close()
}
