package web

import (
	"bufio"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"testing"
	"time"

	"github.com/dncgate/dncgate/internal/proxied"
)

// TestProxyProtocol: behind a balancer sending PROXY headers, handlers
// see the client the header names.
func TestProxyProtocol(t *testing.T) {
	echo := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, r.RemoteAddr) })
	s, err := New("127.0.0.1:0", &pinger{}, slog.New(slog.DiscardHandler), Mount{Pattern: "/who", Handler: echo})
	if err != nil {
		t.Fatal(err)
	}
	s.Wrap(func(ln net.Listener) net.Listener {
		return proxied.Listen(ln, proxied.Options{Trusted: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}})
	})
	go s.Serve()
	t.Cleanup(func() { s.Shutdown(t.Context()) })
	c, err := net.Dial("tcp", s.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprint(c, "PROXY TCP4 192.0.2.44 127.0.0.1 5555 80\r\nGET /who HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b := make([]byte, 64)
	n, _ := resp.Body.Read(b)
	if got := string(b[:n]); got != "192.0.2.44:5555" {
		t.Fatalf("handler saw %q, want the header's client", got)
	}
}
