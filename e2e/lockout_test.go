package e2e

import (
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/emersion/go-smtp"
)

// lockoutConfig has a direct listener and one behind a "load balancer"
// (the test, on loopback) that sends PROXY headers, the check API, and a
// lock-out after 3 failures without slow-down.
func lockoutConfig(dir, direct, behind, web string) string {
	return fmt.Sprintf(`
[server]
hostname = "gw.test"
data_dir = %q
trusted_proxies = ["127.0.0.1"]

[[listener]]
name = "direct"
address = %q
tls = "none"

[[listener]]
name = "behind-lb"
address = %q
tls = "none"
allow_insecure_auth = true
proxy_protocol = true

[web]
listen = %q

[auth]
slow_after = 0
block_after = 3
`, dir, direct, behind, web)
}

// smtpLogin tries one AUTH PLAIN on a fresh connection, through the
// balancer when header is set, and returns the reply code.
func smtpLogin(t *testing.T, addr, header, pass string) int {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	if header != "" {
		conn.Write([]byte(header))
	}
	c := smtp.NewClient(conn)
	defer c.Close()
	if err := c.Hello("client.test"); err != nil {
		t.Fatal(err)
	}
	err = c.Auth(plainAuth("rep@acme.test", pass))
	var se *smtp.SMTPError
	switch {
	case err == nil:
		return 235
	case asSMTPError(err, &se):
		return se.Code
	}
	t.Fatalf("AUTH: %v", err)
	return 0
}

func apiLogin(t *testing.T, web, pass string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, "http://"+web+"/api/v1/check", strings.NewReader(`{"recipients":["a@firma.fr"]}`))
	req.SetBasicAuth("rep@acme.test", pass)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestLoginLockOutShared: failures on SMTP lock the client out of the
// check API too, even with the right password; behind the balancer, the
// client its PROXY header names is another client, not locked out.
func TestLoginLockOutShared(t *testing.T) {
	dir := t.TempDir()
	direct, behind, web := freeAddr(t), freeAddr(t), freeAddr(t)
	cfg := writeConfig(t, dir, lockoutConfig(dir, direct, behind, web))
	addUser(t, "rep@acme.test", "--config", cfg)
	startGateway(t, direct, "--config", cfg)

	for i := range 3 {
		if code := smtpLogin(t, direct, "", "guess"); code != 535 {
			t.Fatalf("wrong password %d: %d, want 535", i+1, code)
		}
	}
	if code := smtpLogin(t, direct, "", password); code != 454 {
		t.Fatalf("right password after 3 failures: %d, want 454", code)
	}
	if code := apiLogin(t, web, password); code != http.StatusTooManyRequests {
		t.Fatalf("check API, right password, same client: %d, want 429", code)
	}
	for _, header := range []string{"PROXY TCP4 203.0.113.5 127.0.0.1 40000 587\r\n", "PROXY TCP4 203.0.113.6 127.0.0.1 40000 587\r\n"} {
		if code := smtpLogin(t, behind, header, password); code != 235 {
			t.Fatalf("another client behind the balancer (%q): %d, want 235", header, code)
		}
	}
}
