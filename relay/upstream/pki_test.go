package upstream

import (
	"crypto/tls"
	"testing"

	"github.com/dncgate/dncgate/internal/testcert"
)

// testPKI is a throwaway certificate authority and a server certificate it
// signed for 127.0.0.1 and localhost.
type testPKI struct {
	server *tls.Config // for the test upstream
	caFile string      // PEM of the CA, for TargetOptions.CAFile
}

func newPKI(t testing.TB) testPKI {
	t.Helper()
	p := testcert.New(t)
	_, _, ca := p.WriteFiles(t, t.TempDir())
	return testPKI{server: p.ServerTLS(), caFile: ca}
}
