package e2e

import (
	"fmt"
	"strings"
	"testing"

	"github.com/dncgate/dncgate/internal/testcert"
)

// TestSTARTTLSAndImplicitTLS sends with swaks over a STARTTLS listener and an
// implicit-TLS listener, both with AUTH.
func TestSTARTTLSAndImplicitTLS(t *testing.T) {
	dir := t.TempDir()
	up := startUpstream(t)
	cert, key, _ := testcert.New(t, "gw.test").WriteFiles(t, dir)
	starttls, implicit := freeAddr(t), freeAddr(t)
	cfg := writeConfig(t, dir, fmt.Sprintf(`
[server]
hostname = "gw.test"
data_dir = %[1]q

[[listener]]
name = "submission"
address = %[2]q
tls = "starttls"
cert_file = %[4]q
key_file = %[5]q

[[listener]]
name = "submissions"
address = %[3]q
tls = "implicit"
cert_file = %[4]q
key_file = %[5]q

[upstream]
url = "smtp://%[6]s"
`, dir, starttls, implicit, cert, key, up.addr))
	addUser(t, "rep@acme.test", "--config", cfg)
	startGateway(t, starttls, "--config", cfg)

	out, code := swaks(t, "--server", starttls, "--tls", "--auth", "PLAIN", "--auth-user", "rep@acme.test",
		"--auth-password", password, "--from", "rep@acme.test", "--to", "a@prospect.test")
	if code != 0 || !strings.Contains(out, "250 2.0.0") {
		t.Fatalf("STARTTLS send: swaks exit %d:\n%s", code, out)
	}
	out, code = swaks(t, "--server", implicit, "--tls-on-connect", "--auth", "LOGIN", "--auth-user", "rep@acme.test",
		"--auth-password", password, "--from", "rep@acme.test", "--to", "b@prospect.test")
	if code != 0 || !strings.Contains(out, "250 2.0.0") {
		t.Fatalf("implicit TLS send: swaks exit %d:\n%s", code, out)
	}
	if got := up.count(); got["a@prospect.test"] != 1 || got["b@prospect.test"] != 1 {
		t.Fatalf("upstream counts %v, want one copy each", got)
	}
}
