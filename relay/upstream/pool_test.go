package upstream

import (
	"io"
	"net"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// pipeConn returns a pooled connection over an in-memory pipe and the far
// end, which reads EOF once the connection is closed.
func pipeConn(t *testing.T) (*upConn, net.Conn) {
	near, far := net.Pipe()
	t.Cleanup(func() { near.Close(); far.Close() })
	return &upConn{c: smtp.NewClient(near), raw: near}, far
}

func closed(far net.Conn) bool {
	far.SetReadDeadline(time.Now().Add(time.Second))
	_, err := far.Read(make([]byte, 1))
	return err == io.EOF
}

func TestPoolExpiry(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	p := newPool(2, 30*time.Second)
	old, oldFar := pipeConn(t)
	fresh, _ := pipeConn(t)
	p.put(old, t0)
	p.put(fresh, t0.Add(20*time.Second))

	if got := p.get(t0.Add(30 * time.Second)); got != fresh {
		t.Fatal("get did not return the fresh connection")
	}
	if !closed(oldFar) {
		t.Fatal("expired connection left open")
	}
	if got := p.get(t0.Add(30 * time.Second)); got != nil {
		t.Fatal("expired connection handed out")
	}
}

func TestPoolLimits(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	p := newPool(1, time.Minute)
	a, _ := pipeConn(t)
	b, bFar := pipeConn(t)
	p.put(a, t0)
	p.put(b, t0)
	if !closed(bFar) {
		t.Fatal("connection over MaxIdle kept open")
	}
	p.close()
	c, cFar := pipeConn(t)
	p.put(c, t0)
	if !closed(cFar) || p.get(t0) != nil {
		t.Fatal("closed pool kept a connection")
	}
}
