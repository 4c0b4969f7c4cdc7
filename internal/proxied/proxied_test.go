package proxied

import (
	"bufio"
	"io"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/pires/go-proxyproto"
)

var loopback = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}

func listen(t *testing.T, trusted []netip.Prefix) *Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := Listen(ln, Options{Trusted: trusted, HeaderTimeout: time.Second})
	t.Cleanup(func() { l.Close() })
	return l
}

func dial(t *testing.T, l net.Listener, send string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if send != "" {
		if _, err := io.WriteString(c, send); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

// accept returns the next accepted connection, or fails after a while.
func accept(t *testing.T, l net.Listener) net.Conn {
	t.Helper()
	got := make(chan net.Conn, 1)
	go func() {
		c, err := l.Accept()
		if err == nil {
			got <- c
		}
	}()
	select {
	case c := <-got:
		t.Cleanup(func() { c.Close() })
		return c
	case <-time.After(5 * time.Second):
		t.Fatal("no connection accepted")
		return nil
	}
}

func v2Header(t *testing.T, src string) string {
	t.Helper()
	h := proxyproto.HeaderProxyFromAddrs(2, net.TCPAddrFromAddrPort(netip.MustParseAddrPort(src)),
		net.TCPAddrFromAddrPort(netip.MustParseAddrPort("127.0.0.1:587")))
	b, err := h.Format()
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestHeaderNamesClient(t *testing.T) {
	l := listen(t, loopback)
	for _, tc := range []struct{ header, want string }{
		{"PROXY TCP4 192.0.2.1 127.0.0.1 5555 587\r\n", "192.0.2.1:5555"},
		{"PROXY TCP6 2001:db8::7 ::1 5555 587\r\n", "[2001:db8::7]:5555"},
		{v2Header(t, "198.51.100.9:4444"), "198.51.100.9:4444"},
		{v2Header(t, "[2001:db8:1::9]:4444"), "[2001:db8:1::9]:4444"},
	} {
		dial(t, l, tc.header+"EHLO client\r\n")
		c := accept(t, l)
		if got := c.RemoteAddr().String(); got != tc.want {
			t.Errorf("header %q: RemoteAddr %s, want %s", tc.header, got, tc.want)
		}
		line, err := bufio.NewReader(c).ReadString('\n')
		if err != nil || line != "EHLO client\r\n" {
			t.Errorf("after header %q read %q, %v", tc.header, line, err)
		}
	}
}

// TestLocalHeaderKeepsPeer: a balancer's health check (LOCAL) speaks for
// itself.
func TestLocalHeaderKeepsPeer(t *testing.T) {
	l := listen(t, loopback)
	h := &proxyproto.Header{Version: 2, Command: proxyproto.LOCAL}
	b, err := h.Format()
	if err != nil {
		t.Fatal(err)
	}
	d := dial(t, l, string(b))
	if c := accept(t, l); c.RemoteAddr().String() != d.LocalAddr().String() {
		t.Errorf("LOCAL header: RemoteAddr %s, want the proxy's %s", c.RemoteAddr(), d.LocalAddr())
	}
}

// closed reports whether the server closed c without a word.
func closed(t *testing.T, c net.Conn) bool {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, err := c.Read(make([]byte, 1))
	return err != nil && !strings.Contains(err.Error(), "timeout")
}

func TestRefused(t *testing.T) {
	l := listen(t, loopback)
	if c := dial(t, l, "EHLO no header\r\n"); !closed(t, c) {
		t.Error("a connection without a header was not closed")
	}
	if c := dial(t, l, "PROXY TCP4 bogus\r\n"); !closed(t, c) {
		t.Error("a connection with a broken header was not closed")
	}
	if c := dial(t, l, ""); !closed(t, c) { // silent: the header timeout
		t.Error("a silent connection was not closed")
	}
	other := listen(t, []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")})
	if c := dial(t, other, "PROXY TCP4 192.0.2.1 127.0.0.1 5555 587\r\n"); !closed(t, c) {
		t.Error("a header from an untrusted peer was believed")
	}
}

// TestSlowPeerBlocksNobody: a peer that sends nothing does not hold up
// the next connection's header.
func TestSlowPeerBlocksNobody(t *testing.T) {
	l := listen(t, loopback)
	dial(t, l, "")
	start := time.Now()
	dial(t, l, "PROXY TCP4 192.0.2.1 127.0.0.1 5555 587\r\n")
	if c := accept(t, l); c.RemoteAddr().String() != "192.0.2.1:5555" || time.Since(start) > 500*time.Millisecond {
		t.Errorf("second connection: %s after %v", c.RemoteAddr(), time.Since(start))
	}
}

func TestCloseStopsAccept(t *testing.T) {
	l := listen(t, loopback)
	l.Close()
	if _, err := l.Accept(); err == nil {
		t.Fatal("Accept after Close succeeded")
	}
}
