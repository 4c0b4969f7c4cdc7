package relay

import (
	"bufio"
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"
)

func TestConnsPerIP(t *testing.T) {
	e := testServer(t, func(o *Options) { o.MaxConnsPerIP = 2 })
	first := dialRaw(t, e.addr(0))
	dialRaw(t, e.addr(0))
	conn, err := net.Dial("tcp", e.addr(0))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	r := bufio.NewReader(conn)
	line, _ := r.ReadString('\n')
	if want := "421 4.7.0 relay.test Too many connections from your address, try later\r\n"; line != want {
		t.Errorf("third connection got %q, want %q", line, want)
	}
	if _, err := r.ReadByte(); err == nil {
		t.Error("refused connection left open")
	}
	// Once one leaves, a new one is let in.
	first.must("QUIT", 221)
	waitFor(t, func() bool { return e.srv.conns.count() < 2 })
	dialRaw(t, e.addr(0))
}

// waitFor polls cond until it holds; the test fails after 10 s.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestIdleTimeout(t *testing.T) {
	e := testServer(t, func(o *Options) { o.ReadTimeout = 200 * time.Millisecond })
	c := dialRaw(t, e.addr(0))
	if got := c.reply(); !strings.HasPrefix(got, "421 4.4.2") {
		t.Errorf("idle client got %q", got)
	}
}

// The session cap ends a connection that is never idle for long.
func TestSessionTimeout(t *testing.T) {
	e := testServer(t, func(o *Options) {
		o.ReadTimeout = time.Minute
		o.SessionTimeout = 300 * time.Millisecond
	})
	c := dialRaw(t, e.addr(0))
	c.ehlo()
	if got := c.reply(); !strings.HasPrefix(got, "421 4.4.2") {
		t.Errorf("got %q", got)
	}
}

// The idle timeout is between bytes: a DATA transfer longer than it, but
// never silent that long, goes through.
func TestIdleTimeoutIsPerRead(t *testing.T) {
	e := testServer(t, func(o *Options) { o.ReadTimeout = 600 * time.Millisecond })
	c := e.login(t)
	startData(t, c, "a@example.com")
	c.send("From: rep@acme.fr\r\n\r\n")
	for range 8 {
		time.Sleep(100 * time.Millisecond) // pacing the client, not an assertion
		c.send("line\r\n")
	}
	c.send(".\r\n")
	c.expect(250)
}

// Shutdown lets a transaction under way finish, sends idle clients away
// and accepts no new connection.
func TestShutdownDrains(t *testing.T) {
	e := testServer(t)
	busy := e.login(t)
	idle := e.login(t)
	startData(t, busy, "a@example.com")
	busy.send("From: rep@acme.fr\r\nSubject: in flight\r\n\r\nfirst half\r\n")

	done := make(chan error, 1)
	go func() { done <- e.srv.Shutdown(context.Background()) }()
	waitFor(t, func() bool {
		conn, err := net.Dial("tcp", e.addr(0))
		if err == nil {
			conn.Close()
		}
		return err != nil
	})
	if got := idle.reply(); !strings.HasPrefix(got, "421 ") {
		t.Errorf("idle client got %q", got)
	}
	busy.send("second half\r\n.\r\n")
	busy.expect(250)
	if got := busy.cmd("MAIL FROM:<rep@acme.fr>"); !strings.HasPrefix(got, "421 ") {
		t.Errorf("after its transaction the client got %q", got)
	}
	if err := <-done; err != nil {
		t.Errorf("Shutdown: %v", err)
	}
	if calls := e.fwd.got(); len(calls) != 1 || !strings.Contains(calls[0].body, "second half") {
		t.Errorf("forwarded %+v", calls)
	}
}

// At the deadline Shutdown closes what is left and cancels the forward.
func TestShutdownDeadline(t *testing.T) {
	e := testServer(t)
	e.fwd.entered = make(chan struct{}, 1)
	e.fwd.hold = make(chan struct{}) // never released: Forward ends with its context
	c := e.login(t)
	startData(t, c, "a@example.com")
	c.send(message(repEmail, "stuck") + ".\r\n")
	<-e.fwd.entered
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := e.srv.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Shutdown: %v", err)
	}
	calls := e.fwd.got()
	if len(calls) != 1 || calls[0].ctx.Err() == nil {
		t.Errorf("forward context not cancelled: %+v", calls)
	}
	if err := e.srv.Shutdown(context.Background()); !errors.Is(err, ErrServerClosed) {
		t.Errorf("second Shutdown: %v", err)
	}
}

func TestDrainRace(t *testing.T) {
	c := &trackedConn{Conn: nopConn{}}
	if !c.startTx() {
		t.Fatal("fresh connection refused a transaction")
	}
	c.drain() // busy: keeps going
	if _, err := c.Read(make([]byte, 1)); err != nil {
		t.Errorf("busy draining connection: %v", err)
	}
	c.endTx()
	if c.startTx() {
		t.Error("draining connection started a transaction")
	}
	if _, err := c.Read(make([]byte, 1)); err == nil {
		t.Error("idle draining connection still reads")
	}
}

// nopConn reads one byte forever.
type nopConn struct{ net.Conn }

func (nopConn) Read(p []byte) (int, error)      { return len(p), nil }
func (nopConn) SetReadDeadline(time.Time) error { return nil }
