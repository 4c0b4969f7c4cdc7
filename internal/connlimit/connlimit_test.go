package connlimit

import (
	"net"
	"net/netip"
	"testing"
)

func TestKey(t *testing.T) {
	for _, c := range []struct{ addr, want string }{
		{"192.0.2.7", "192.0.2.7/32"},
		{"::ffff:192.0.2.7", "192.0.2.7/32"}, // mapped: the IPv4 client
		{"2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"},
		{"2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64"}, // same /64
		{"2001:db8:1:3::1", "2001:db8:1:3::/64"},                  // next /64
		{"::1", "::/64"},
		{"fe80::1%eth0", "fe80::/64"}, // the zone is not part of the key
	} {
		if got := Key(netip.MustParseAddr(c.addr)); got.String() != c.want {
			t.Errorf("Key(%s) = %s, want %s", c.addr, got, c.want)
		}
	}
	if got := Key(netip.Addr{}); got != (netip.Prefix{}) {
		t.Errorf("Key(invalid) = %v, want the zero prefix", got)
	}
}

func TestTable(t *testing.T) {
	tb := New(3, 2)
	a1 := netip.MustParseAddr("2001:db8::1")
	a2 := netip.MustParseAddr("2001:db8::2") // a1's /64
	b := netip.MustParseAddr("192.0.2.1")
	c := netip.MustParseAddr("192.0.2.2")
	steps := []struct {
		addr netip.Addr
		want Refusal
	}{
		{a1, Admitted}, {a2, Admitted},
		{a1, ClientFull}, // a third from one /64
		{b, Admitted},
		{c, Full}, // 3 in all
	}
	for i, s := range steps {
		if got := tb.Take(s.addr); got != s.want {
			t.Fatalf("step %d: Take(%s) = %v, want %v", i, s.addr, got, s.want)
		}
	}
	if tb.Len() != 3 {
		t.Errorf("Len = %d, want 3", tb.Len())
	}
	tb.Give(a2)
	if got := tb.Take(c); got != Admitted {
		t.Errorf("after Give, Take(%s) = %v", c, got)
	}
	if got := tb.Take(a1); got != Full {
		t.Errorf("Take(%s) on a full table = %v, want Full", a1, got)
	}
	tb.Give(b)
	if got := tb.Take(a1); got != Admitted {
		t.Errorf("a1's /64 holds one again; Take = %v", got)
	}
}

func TestNoLimits(t *testing.T) {
	tb := New(0, 0)
	a := netip.MustParseAddr("192.0.2.1")
	for i := range 1000 {
		if got := tb.Take(a); got != Admitted {
			t.Fatalf("Take %d = %v with no limits", i, got)
		}
	}
}

func TestFit(t *testing.T) {
	for _, c := range []struct {
		want    int
		nofile  uint64
		perConn int
		fit     int
	}{
		{1000, 1024, 2, 448},     // (1024-128)/2
		{1000, 1 << 20, 2, 1000}, // room enough
		{1000, 1024, 1, 896},
		{10, 100, 2, 1}, // less than the reserve: still one
		{1000, 0, 2, 1}, // unknown
		{500, 1 << 62, 0, 500},
	} {
		if got := Fit(c.want, c.nofile, c.perConn); got != c.fit {
			t.Errorf("Fit(%d, %d, %d) = %d, want %d", c.want, c.nofile, c.perConn, got, c.fit)
		}
	}
}

func TestPeer(t *testing.T) {
	for a, want := range map[net.Addr]string{
		&net.TCPAddr{IP: net.ParseIP("192.0.2.1"), Port: 25}:        "192.0.2.1",
		&net.TCPAddr{IP: net.ParseIP("::ffff:192.0.2.1"), Port: 25}: "192.0.2.1",
		&net.TCPAddr{IP: net.ParseIP("2001:db8::1"), Port: 25}:      "2001:db8::1",
		&net.UnixAddr{Name: "/run/x.sock", Net: "unix"}:             "invalid IP",
	} {
		if got := Peer(a).String(); got != want {
			t.Errorf("Peer(%v) = %s, want %s", a, got, want)
		}
	}
}
