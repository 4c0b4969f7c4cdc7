package testredis

import (
	"context"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/dncgate/dncgate/internal/testcert"
)

// TestStartTLS: the address answers over TLS with the test authority and
// refuses a plain client.
func TestStartTLS(t *testing.T) {
	pki := testcert.New(t)
	certFile, keyFile, caFile := pki.WriteFiles(t, t.TempDir())
	addr := StartTLS(t, certFile, keyFile, caFile)
	c := redis.NewClient(&redis.Options{Addr: addr, TLSConfig: pki.ClientTLS("127.0.0.1")})
	defer c.Close()
	if err := c.Ping(context.Background()).Err(); err != nil {
		t.Fatalf("PING over TLS: %v", err)
	}
	if err := ping(addr); err == nil {
		t.Fatal("a plain PING to the TLS port was answered")
	}
}
