package testredis

import (
	"net"
	"strconv"
	"testing"
)

// StartTLS runs one redis-server like Start that also serves TLS with the
// given certificate and key (clients are not asked for certificates), and
// returns the "127.0.0.1:port" address of its TLS port. Its plain port
// serves only the readiness check.
func StartTLS(t testing.TB, certFile, keyFile, caFile string) string {
	t.Helper()
	n := startNode(t, func(_ string, tlsPort int) []string {
		return []string{
			"--tls-port", strconv.Itoa(tlsPort),
			"--tls-cert-file", certFile, "--tls-key-file", keyFile, "--tls-ca-cert-file", caFile,
			"--tls-auth-clients", "no",
		}
	})
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(n.busPort))
}
