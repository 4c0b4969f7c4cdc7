package relay

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// swaks runs the real swaks client against addr and returns its exit error
// and output. A missing swaks fails the test: it is a required tool.
func swaks(t *testing.T, addr string, args ...string) (string, error) {
	t.Helper()
	bin, err := exec.LookPath("swaks")
	if err != nil {
		t.Fatalf("swaks not installed (apt-get install -y swaks): %v", err)
	}
	host, port, _ := strings.Cut(addr, ":")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	base := []string{"--server", host, "--port", port, "--from", repEmail, "--to", "prospect@example.com",
		"--helo", "client.test", "--timeout", "20s", "--h-Subject", "swaks test"}
	out, err := exec.CommandContext(ctx, bin, append(base, args...)...).CombinedOutput()
	return string(out), err
}

func TestSwaks(t *testing.T) {
	tests := []struct {
		name     string
		listener int // 0 starttls, 1 implicit TLS
		args     []string
	}{
		{"PLAIN over STARTTLS, certificate verified", 0,
			[]string{"--tls", "--tls-verify", "--tls-sni", "127.0.0.1", "--auth", "PLAIN"}},
		{"LOGIN over STARTTLS", 0, []string{"--tls", "--auth", "LOGIN"}},
		{"LOGIN over implicit TLS", 1, []string{"--tls-on-connect", "--auth", "LOGIN"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := testServer(t, withTLSListeners(t))
			args := append(tt.args, "--auth-user", repEmail, "--auth-password", repPassword)
			if strings.Contains(tt.name, "verified") {
				args = append(args, "--tls-ca-path", caFile(t))
			}
			out, err := swaks(t, e.addr(tt.listener), args...)
			if err != nil {
				t.Fatalf("swaks: %v\n%s", err, out)
			}
			if !strings.Contains(out, "250 2.0.0 Delivered to 1 recipient(s) (ref ") {
				t.Errorf("no delivery reply in swaks output:\n%s", out)
			}
			calls := e.fwd.got()
			if len(calls) != 1 || calls[0].env.Rcpts[0].Addr != "prospect@example.com" || !strings.Contains(calls[0].body, "Subject: swaks test") {
				t.Fatalf("forwarded %+v", calls)
			}
			if strings.Contains(calls[0].body, "\n") && strings.Count(calls[0].body, "\n") != strings.Count(calls[0].body, "\r\n") {
				t.Error("body lost its CRLF line endings")
			}
		})
	}
}

func TestSwaksRefused(t *testing.T) {
	e := testServer(t, withTLSListeners(t))
	out, err := swaks(t, e.addr(0), "--tls", "--auth", "PLAIN", "--auth-user", repEmail, "--auth-password", "nope")
	if err == nil {
		t.Fatalf("swaks succeeded with a wrong password:\n%s", out)
	}
	if !strings.Contains(out, "535 5.7.8") {
		t.Errorf("no 535 in output:\n%s", out)
	}
	out, err = swaks(t, e.addr(0), "--tls", "--auth", "PLAIN", "--auth-user", repEmail, "--auth-password", repPassword,
		"--h-From", "ceo@other.com")
	if err == nil || !strings.Contains(out, "550 5.7.1 From: header <ceo@other.com> not permitted") {
		t.Errorf("foreign From: accepted (%v):\n%s", err, out)
	}
	if n := len(e.fwd.got()); n != 0 {
		t.Errorf("forwarded %d", n)
	}
}

// The verified case above means something: without the CA, swaks refuses.
func TestSwaksVerifiesCertificate(t *testing.T) {
	e := testServer(t, withTLSListeners(t))
	out, err := swaks(t, e.addr(0), "--tls", "--tls-verify", "--tls-sni", "127.0.0.1", "--auth", "PLAIN",
		"--auth-user", repEmail, "--auth-password", repPassword)
	if err == nil {
		t.Fatalf("swaks accepted an unknown certificate:\n%s", out)
	}
	if n := len(e.fwd.got()); n != 0 {
		t.Errorf("forwarded %d", n)
	}
}
