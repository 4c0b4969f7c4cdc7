// Package connlimit bounds the connections a listener holds at once: in
// all, and per client network. A client network is an IPv4 address or an
// IPv6 /64, the least a subscriber is given (RFC 6177), so that one host
// cannot take a fresh address of its /64 for each connection.
package connlimit

import (
	"net"
	"net/netip"
	"sync"
)

// ipv6ClientBits is the prefix length that names one IPv6 client.
const ipv6ClientBits = 64

// Key is the client network of a: an IPv4 address (IPv4-mapped IPv6
// unmapped first) as a /32, an IPv6 address as its /64. An invalid address
// has the zero Prefix, one shared key.
func Key(a netip.Addr) netip.Prefix {
	a = a.Unmap()
	bits := ipv6ClientBits
	if a.Is4() {
		bits = 32
	}
	p, err := a.Prefix(bits)
	if err != nil {
		return netip.Prefix{}
	}
	return p
}

// Peer is the IP address of a connection's far end, IPv4-mapped IPv6
// unmapped so that limits, trusted networks and logs see one form; the
// zero Addr when a is no IP address.
func Peer(a net.Addr) netip.Addr {
	if ap, err := netip.ParseAddrPort(a.String()); err == nil {
		return ap.Addr().Unmap()
	}
	return netip.Addr{}
}

// Refusal says why Take refused a connection.
type Refusal int

const (
	// Admitted: not refused.
	Admitted Refusal = iota
	// Full: the listener holds its total already.
	Full
	// ClientFull: the client's network holds its share already.
	ClientFull
)

// Table counts the connections open, in all and per client network. A
// limit of 0 or less is no limit.
type Table struct {
	total, perClient int

	mu  sync.Mutex
	n   int
	per map[netip.Prefix]int
}

// New makes a Table admitting total connections in all and perClient from
// one client network.
func New(total, perClient int) *Table {
	return &Table{total: total, perClient: perClient, per: map[netip.Prefix]int{}}
}

// Take counts a connection from a, or reports why not; every admitted
// connection is given back with Give.
func (t *Table) Take(a netip.Addr) Refusal {
	k := Key(a)
	t.mu.Lock()
	defer t.mu.Unlock()
	switch {
	case t.total > 0 && t.n >= t.total:
		return Full
	case t.perClient > 0 && t.per[k] >= t.perClient:
		return ClientFull
	}
	t.n++
	t.per[k]++
	return Admitted
}

// Give uncounts a connection Take admitted from a.
func (t *Table) Give(a netip.Addr) {
	k := Key(a)
	t.mu.Lock()
	defer t.mu.Unlock()
	t.n--
	if t.per[k]--; t.per[k] <= 0 {
		delete(t.per, k)
	}
}

// Len is the number of connections counted.
func (t *Table) Len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.n
}
