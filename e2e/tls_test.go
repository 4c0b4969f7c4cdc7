package e2e

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// testCert writes a self-signed certificate for 127.0.0.1 and its key.
func testCert(t *testing.T, dir string) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "gw.test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		DNSNames:     []string{"gw.test"},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600)
	return certFile, keyFile
}

// TestSTARTTLSAndImplicitTLS sends with swaks over a STARTTLS listener and an
// implicit-TLS listener, both with AUTH.
func TestSTARTTLSAndImplicitTLS(t *testing.T) {
	dir := t.TempDir()
	up := startUpstream(t)
	cert, key := testCert(t, dir)
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
