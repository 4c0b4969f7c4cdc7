package testhaproxy

import (
	"bufio"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/dncgate/dncgate/internal/proxied"
)

// echoBackend accepts PROXY-protocol connections and answers each with
// its name and the client the header named.
func echoBackend(t *testing.T, name string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	pl := proxied.Listen(ln, proxied.Options{Trusted: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}})
	t.Cleanup(func() { pl.Close() })
	go func() {
		for {
			c, err := pl.Accept()
			if err != nil {
				return
			}
			host, _, _ := net.SplitHostPort(c.RemoteAddr().String())
			fmt.Fprintf(c, "%s %s\n", name, host)
			c.Close()
		}
	}()
	return ln.Addr().String()
}

// ask connects to addr from the loopback address from and returns the
// backend's answer.
func ask(t *testing.T, addr, from string) string {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}, Timeout: 5 * time.Second}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		t.Fatalf("reading the answer through %s: %v", addr, err)
	}
	return strings.TrimSpace(line)
}

// TestRoundRobinWithClientAddress: connections alternate between the
// backends, and each backend learns the real client from the PROXY header.
func TestRoundRobinWithClientAddress(t *testing.T) {
	a, b := echoBackend(t, "a"), echoBackend(t, "b")
	p := Start(t, Pool{Name: "echo", Backends: []string{a, b}})
	seen := map[string]int{}
	prev := ""
	for i := range 6 {
		from := "127.0.0.2"
		if i%2 == 1 {
			from = "127.0.0.3"
		}
		got := strings.Fields(ask(t, p.Addr("echo"), from))
		if len(got) != 2 || got[1] != from {
			t.Fatalf("connection %d from %s: backend answered %q, want its name and %s", i, from, got, from)
		}
		if got[0] == prev {
			t.Fatalf("connection %d landed on %s again, want round robin; haproxy log:\n%s", i, got[0], p.Log())
		}
		prev = got[0]
		seen[got[0]]++
	}
	if seen["a"] != 3 || seen["b"] != 3 {
		t.Fatalf("connections per backend %v, want 3 each", seen)
	}
	if log := p.Log(); !strings.Contains(log, "127.0.0.2") || !strings.Contains(log, "echo/echo0") {
		t.Fatalf("haproxy's log names neither the client nor the server:\n%s", log)
	}
	if cfg := p.Config(); !strings.Contains(cfg, a+" send-proxy-v2") {
		t.Fatalf("config does not send PROXY v2 to %s:\n%s", a, cfg)
	}
}

// TestBadPools: a pool without backends is the test's mistake, named.
func TestBadPools(t *testing.T) {
	for _, tc := range []struct {
		pools []Pool
		want  string
	}{
		{nil, "no pool given"},
		{[]Pool{{Name: "smtp"}}, `pool "smtp" has no backend`},
		{[]Pool{{Name: "a b", Backends: []string{"127.0.0.1:1"}}}, `pool 0: name "a b" must be one word`},
		{[]Pool{{Name: "c", Backends: []string{"127.0.0.1:1"}, Check: "option smtpchk\nlisten evil"}}, `pool "c": check "option smtpchk\nlisten evil" must be one line`},
		{[]Pool{{Name: "x", Backends: []string{"127.0.0.1:1"}}, {Name: "x", Backends: []string{"127.0.0.1:1"}}}, `pool "x" given twice`},
	} {
		if err := checkPools(tc.pools); err == nil || err.Error() != tc.want {
			t.Errorf("checkPools(%v) = %v, want %q", tc.pools, err, tc.want)
		}
	}
}
