package testcert

import (
	"crypto/tls"
	"testing"
)

// TestHandshake: a client trusting the authority accepts the server for
// 127.0.0.1 and an extra name, and refuses a name the certificate lacks.
func TestHandshake(t *testing.T) {
	p := New(t, "gw.test")
	ln, err := tls.Listen("tcp", "127.0.0.1:0", p.ServerTLS())
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.(*tls.Conn).Handshake()
			c.Close()
		}
	}()
	dial := func(name string) error {
		c, err := tls.Dial("tcp", ln.Addr().String(), p.ClientTLS(name))
		if err == nil {
			c.Close()
		}
		return err
	}
	for _, name := range []string{"127.0.0.1", "localhost", "gw.test"} {
		if err := dial(name); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	if err := dial("other.test"); err == nil {
		t.Error("a name the certificate lacks was accepted")
	}
}
