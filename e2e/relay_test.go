package e2e

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

const password = "correct horse battery"

// addUser runs `dncgate users add` with the password on stdin.
func addUser(t *testing.T, email string, args ...string) {
	t.Helper()
	full := append([]string{"users", "add", email, "--password-stdin"}, args...)
	mustCLI(t, password+"\n", full...)
}

// relayConfig is a config with one plain loopback listener and an SMTP upstream.
func relayConfig(dir, listen, upstreamAddr, extra string) string {
	return fmt.Sprintf(`
[server]
hostname = "gw.test"
data_dir = %q

[[listener]]
name = "loopback"
address = %q
tls = "none"

[upstream]
url = "smtp://%s"

[log]
format = "json"
level = "debug"
%s`, dir, listen, upstreamAddr, extra)
}

// message builds a small message with CRLF line endings.
func message(from, to, subject string) []byte {
	return []byte("From: <" + from + ">\r\nTo: <" + to + ">\r\nSubject: " + subject +
		"\r\nMessage-ID: <" + subject + "@acme.test>\r\n\r\nHello from the e2e test.\r\n")
}

// sendAs logs in with go-smtp's client and sends body to rcpts.
func sendAs(addr, user string, from string, rcpts []string, body []byte) error {
	c, err := smtp.Dial(addr)
	if err != nil {
		return err
	}
	defer c.Close()
	return transact(c, user, from, rcpts, body)
}

// transact logs in as user on c and sends one message from from.
func transact(c *smtp.Client, user, from string, rcpts []string, body []byte) error {
	if err := c.Hello("client.test"); err != nil {
		return err
	}
	if err := c.Auth(plainAuth(user, password)); err != nil {
		return err
	}
	if err := c.Mail(from, nil); err != nil {
		return err
	}
	for _, r := range rcpts {
		if err := c.Rcpt(r, nil); err != nil {
			return err
		}
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write(body); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return c.Quit()
}

// TestQuickStartOutbox runs serve with no config at all, as the README's
// quick start does, and adds a user from the CLI while the server runs.
func TestQuickStartOutbox(t *testing.T) {
	data := t.TempDir()
	addr, webAddr := freeAddr(t), freeAddr(t)
	g := startGateway(t, addr, "--data", data, "--listen", addr, "--web-listen", webAddr)

	// The HTTP side answers health and readiness (the embedded store is up).
	for _, path := range []string{"/healthz", "/readyz"} {
		resp, err := http.Get("http://" + webAddr + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s = %d, want 200", path, resp.StatusCode)
		}
	}

	// Before the user exists, AUTH fails and nothing can be relayed.
	out, code := swaks(t, "--server", addr, "--auth", "PLAIN", "--auth-user", "rep@acme.test",
		"--auth-password", password, "--from", "rep@acme.test", "--to", "p@prospect.test")
	if code == 0 || !strings.Contains(out, "535") {
		t.Fatalf("unknown user: swaks exit %d, want a 535 refusal:\n%s", code, out)
	}
	out, code = swaks(t, "--server", addr, "--from", "rep@acme.test", "--to", "p@prospect.test")
	if code == 0 || !strings.Contains(out, "530 5.7.0") {
		t.Fatalf("no AUTH: swaks exit %d, want 530 5.7.0:\n%s", code, out)
	}

	// The CLI writes to the same embedded store file the server is using.
	addUser(t, "rep@acme.test", "--data", data)
	out, code = swaks(t, "--server", addr, "--auth", "LOGIN", "--auth-user", "rep@acme.test",
		"--auth-password", password, "--from", "rep@acme.test", "--to", "p@prospect.test",
		"--header", "Subject: quick start")
	if code != 0 || !strings.Contains(out, "250 2.0.0") {
		t.Fatalf("send after users add: swaks exit %d:\n%s", code, out)
	}
	files, _ := filepath.Glob(filepath.Join(data, "outbox", "*.eml"))
	if len(files) != 1 {
		t.Fatalf("outbox holds %d .eml files, want 1", len(files))
	}
	eml, _ := os.ReadFile(files[0])
	if !bytes.Contains(eml, []byte("Subject: quick start")) || !bytes.Contains(eml, []byte("p@prospect.test")) {
		t.Fatalf("outbox file lacks the message:\n%s", eml)
	}
	if err := g.stop(t); err != nil {
		t.Fatalf("SIGTERM: exit %v", err)
	}
}

// TestRelayRules checks the open-relay and sender rules through the binary.
func TestRelayRules(t *testing.T) {
	dir := t.TempDir()
	up := startUpstream(t)
	addr := freeAddr(t)
	cfg := writeConfig(t, dir, relayConfig(dir, addr, up.addr, ""))
	addUser(t, "rep@acme.test", "--config", cfg, "--send-as", "@acme.test")
	startGateway(t, addr, "--config", cfg)

	cases := []struct {
		name string
		args []string
		want string
	}{
		{"wrong password", []string{"--auth", "PLAIN", "--auth-user", "rep@acme.test", "--auth-password", "nope nope nope"}, "535 5.7.8"},
		{"foreign MAIL FROM", []string{"--auth", "PLAIN", "--auth-user", "rep@acme.test", "--auth-password", password, "--from", "ceo@other.test"}, "553 5.7.1"},
		{"foreign From header", []string{"--auth", "PLAIN", "--auth-user", "rep@acme.test", "--auth-password", password, "--header", "From: <ceo@other.test>"}, "550 5.7.1"},
	}
	for _, c := range cases {
		args := append([]string{"--server", addr, "--from", "rep@acme.test", "--to", "p@prospect.test"}, c.args...)
		out, code := swaks(t, args...)
		if code == 0 || !strings.Contains(out, c.want) {
			t.Errorf("%s: swaks exit %d, want %q in:\n%s", c.name, code, c.want, out)
		}
	}
	if n := len(up.deliveries()); n != 0 {
		t.Fatalf("upstream received %d messages from refused sends, want 0", n)
	}
}

// TestPartialFailureRetry: the upstream refuses one recipient temporarily; the
// client gets 451 and retries the same message; every recipient ends up with
// exactly one copy.
func TestPartialFailureRetry(t *testing.T) {
	dir := t.TempDir()
	up := startUpstream(t)
	addr := freeAddr(t)
	cfg := writeConfig(t, dir, relayConfig(dir, addr, up.addr, ""))
	addUser(t, "rep@acme.test", "--config", cfg)
	startGateway(t, addr, "--config", cfg)

	rcpts := []string{"a@prospect.test", "b@prospect.test", "c@prospect.test"}
	body := message("rep@acme.test", "a@prospect.test", "retry")
	up.failNext("b@prospect.test", &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try later"})

	err := sendAs(addr, "rep@acme.test", "rep@acme.test", rcpts, body)
	var se *smtp.SMTPError
	if !asSMTPError(err, &se) || se.Code != 451 {
		t.Fatalf("first attempt: got %v, want a 451", err)
	}
	if got := up.count(); got["a@prospect.test"] != 1 || got["b@prospect.test"] != 0 || got["c@prospect.test"] != 1 {
		t.Fatalf("after first attempt upstream counts %v", got)
	}
	if err := sendAs(addr, "rep@acme.test", "rep@acme.test", rcpts, body); err != nil {
		t.Fatalf("retry: %v", err)
	}
	for _, r := range rcpts {
		if n := up.count()[r]; n != 1 {
			t.Errorf("%s received %d copies, want 1", r, n)
		}
	}
}

// TestDrainOnSIGTERM: a transaction under way when SIGTERM arrives completes;
// the process then exits cleanly.
func TestDrainOnSIGTERM(t *testing.T) {
	dir := t.TempDir()
	up := startUpstream(t)
	addr := freeAddr(t)
	cfg := writeConfig(t, dir, relayConfig(dir, addr, up.addr, ""))
	addUser(t, "rep@acme.test", "--config", cfg)
	g := startGateway(t, addr, "--config", cfg)

	c, err := smtp.Dial(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Auth(plainAuth("rep@acme.test", password)); err != nil {
		t.Fatal(err)
	}
	if err := c.Mail("rep@acme.test", nil); err != nil {
		t.Fatal(err)
	}
	if err := c.Rcpt("p@prospect.test", nil); err != nil {
		t.Fatal(err)
	}
	w, err := c.Data()
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte("From: <rep@acme.test>\r\nSubject: drain\r\n\r\n"))
	stopped := make(chan error, 1)
	go func() { stopped <- g.stop(t) }()
	// Draining means new connections are refused while this one goes on.
	deadline := time.Now().Add(10 * time.Second)
	for {
		nc, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			break
		}
		nc.Close()
		if time.Now().After(deadline) {
			t.Fatal("gateway still accepts connections 10s after SIGTERM")
		}
		time.Sleep(20 * time.Millisecond)
	}
	w.Write([]byte("still here\r\n"))
	if err := w.Close(); err != nil {
		t.Fatalf("DATA during drain: %v", err)
	}
	c.Quit()
	if err := <-stopped; err != nil {
		t.Fatalf("exit after drain: %v", err)
	}
	if n := len(up.deliveries()); n != 1 {
		t.Fatalf("upstream got %d messages, want 1", n)
	}
}
