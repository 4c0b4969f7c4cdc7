package relay

import (
	"bufio"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/pires/go-proxyproto"
)

// proxyServer is a test server whose listener reads PROXY headers from
// loopback, the test's load balancer.
func proxyServer(t *testing.T, opts ...option) *testEnv {
	t.Helper()
	return testServer(t, append([]option{func(o *Options) {
		o.Listeners[0].ProxyProtocol = true
		o.Listeners[0].AllowInsecureAuth = true // the real clients are not on loopback
		o.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	}}, opts...)...)
}

// dialAs connects through the "balancer": a v1 or v2 header naming client.
func dialAs(t *testing.T, addr string, version byte, client string) net.Conn {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	h := proxyproto.HeaderProxyFromAddrs(version, net.TCPAddrFromAddrPort(netip.MustParseAddrPort(client)), conn.RemoteAddr())
	if _, err := h.WriteTo(conn); err != nil {
		t.Fatal(err)
	}
	return conn
}

func rawAs(t *testing.T, addr string, version byte, client string) *rawClient {
	t.Helper()
	return newRaw(t, dialAs(t, addr, version, client))
}

// TestProxyThrottleSeesClient: behind the balancer, one client's failures
// lock only that client out; the throttle counts the address the header
// names, v1 and v2 alike.
func TestProxyThrottleSeesClient(t *testing.T) {
	e := proxyServer(t)
	bad := rawAs(t, e.addr(0), 2, "198.51.100.7:40000")
	bad.ehlo()
	for range 4 {
		bad.auth(repEmail, "guess")
	}
	if got := bad.auth(repEmail, repPassword); !strings.HasPrefix(got, "454 4.7.0") {
		t.Fatalf("the guessing client after 4 failures: %q", got)
	}
	if n := e.attempts.get("auth:pair:198.51.100.7/32|" + repEmail); n != 4 {
		t.Errorf("failures counted for the real client: %d, want 4", n)
	}
	for _, v := range []byte{1, 2} {
		good := rawAs(t, e.addr(0), v, "203.0.113.5:40001")
		good.ehlo()
		if got := good.auth(repEmail, repPassword); !strings.HasPrefix(got, "235 ") {
			t.Fatalf("another client behind the same balancer (v%d): %q", v, got)
		}
	}
	if !strings.Contains(e.logs.String(), "client=203.0.113.5") {
		t.Error("the log does not name the real client")
	}
}

// TestProxyConnLimitPerClient: the per-address connection limit counts
// real clients, so one client's idle connections do not shut out the
// others behind the balancer.
func TestProxyConnLimitPerClient(t *testing.T) {
	e := proxyServer(t, func(o *Options) { o.MaxConnsPerIP = 2 })
	rawAs(t, e.addr(0), 1, "198.51.100.7:1")
	rawAs(t, e.addr(0), 2, "198.51.100.7:2")
	conn := dialAs(t, e.addr(0), 1, "198.51.100.7:3")
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	if line, _ := bufio.NewReader(conn).ReadString('\n'); !strings.HasPrefix(line, "421 4.7.0") {
		t.Errorf("third connection of one client: %q, want 421", line)
	}
	rawAs(t, e.addr(0), 2, "203.0.113.5:1") // expects 220
}

// TestProxyRefusesWithoutHeader: a listener behind a balancer refuses a
// connection without a header, and anyone not a trusted proxy.
func TestProxyRefusesWithoutHeader(t *testing.T) {
	e := proxyServer(t)
	conn, err := net.Dial("tcp", e.addr(0))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.Write([]byte("EHLO direct\r\n"))
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	if line, err := bufio.NewReader(conn).ReadString('\n'); err == nil {
		t.Errorf("a connection without a header got %q", line)
	}

	_, err = New(Options{Listeners: []Listener{{Name: "lb", Addr: "127.0.0.1:0", ProxyProtocol: true}}},
		newFakeUsers(t), testLogin(t, newFakeUsers(t), newFakeAttempts(), nil), newFakeForwarder(), discardLog())
	if err == nil || !strings.Contains(err.Error(), "ProxyProtocol needs TrustedProxies") {
		t.Errorf("a PROXY listener without trusted proxies: %v", err)
	}
}
