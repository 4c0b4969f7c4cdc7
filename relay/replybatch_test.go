package relay

import (
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// countedConn counts the writes that reach the socket.
type countedConn struct {
	net.Conn
	mu     sync.Mutex
	writes []string
}

func (c *countedConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	c.writes = append(c.writes, string(p))
	c.mu.Unlock()
	return c.Conn.Write(p)
}

func (c *countedConn) count() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.writes...)
}

// loopbackPair returns both ends of a real TCP connection.
func loopbackPair(t *testing.T) (server, client net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	client, err = net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	server, err = ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { server.Close(); client.Close() })
	client.SetDeadline(time.Now().Add(10 * time.Second))
	return server, client
}

// The replies written between two reads leave in one write, when the
// next read needs the client, and Close writes what is left.
func TestRepliesLeaveTogether(t *testing.T) {
	server, client := loopbackPair(t)
	counted := &countedConn{Conn: server}
	table := newConnTable(Options{PreAuthTimeout: time.Minute, ReadTimeout: time.Minute, SessionTimeout: time.Hour})
	c, _ := table.admit(counted)
	for _, l := range []string{"250-relay.test\r\n", "250-PIPELINING\r\n", "250 8BITMIME\r\n"} {
		if _, err := c.Write([]byte(l)); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(counted.count()); n != 0 {
		t.Fatalf("%d writes before the next read, want 0", n)
	}
	client.Write([]byte("MAIL FROM:<a@b.c>\r\n"))
	buf := make([]byte, 64)
	if _, err := c.Read(buf); err != nil {
		t.Fatal(err)
	}
	if w := counted.count(); len(w) != 1 || w[0] != "250-relay.test\r\n250-PIPELINING\r\n250 8BITMIME\r\n" {
		t.Fatalf("writes = %q, want the three lines in one", w)
	}
	c.Write([]byte("250 2.0.0 OK\r\n"))
	c.Close()
	if w := counted.count(); len(w) != 2 || w[1] != "250 2.0.0 OK\r\n" {
		t.Fatalf("writes = %q, want the last reply written by Close", w)
	}
	got, _ := io.ReadAll(client)
	if !strings.HasSuffix(string(got), "250 8BITMIME\r\n250 2.0.0 OK\r\n") {
		t.Fatalf("client read %q", got)
	}
}

// A client that pipelines a whole transaction gets every reply, in order.
func TestPipelinedClient(t *testing.T) {
	e := testServer(t)
	c := e.login(t)
	c.send("MAIL FROM:<" + repEmail + ">\r\nRCPT TO:<ann@example.com>\r\nRCPT TO:<bob@example.com>\r\nDATA\r\n")
	for _, code := range []int{250, 250, 250, 354} {
		c.expect(code)
	}
	c.send("From: " + repEmail + "\r\nSubject: x\r\n\r\nhello\r\n.\r\nQUIT\r\n")
	c.expect(250)
	c.expect(221)
}
