package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestNoCopyCarriesBcc sends, as swaks and Python's smtplib do, a message
// whose header still holds its Bcc field, to its To:, Cc: and Bcc:
// recipients, footer on and off: no copy that reaches the upstream shows
// the blind list (RFC 5322 §3.6.3).
func TestNoCopyCarriesBcc(t *testing.T) {
	for name, extra := range map[string]string{"footer on": footerSection, "footer off": "[footer]\nenabled = false\n"} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			up := startUpstream(t)
			addr := freeAddr(t)
			cfg := writeConfig(t, dir, relayConfig(dir, addr, up.addr, extra))
			addUser(t, "rep@acme.test", "--config", cfg)
			startGateway(t, addr, "--config", cfg)

			out, code := swaks(t, "--server", addr, "--auth", "PLAIN", "--auth-user", "rep@acme.test",
				"--auth-password", password, "--from", "rep@acme.test",
				"--to", "to@prospect.com,cc@prospect.com,blind1@prospect.com,blind2@prospect.com",
				"--header", "To: to@prospect.com", "--header", "Cc: cc@prospect.com",
				"--header", "Bcc: blind1@prospect.com, blind2@prospect.com", "--header", "Subject: swaks bcc")
			if code != 0 {
				t.Fatalf("swaks exit %d:\n%s", code, out)
			}
			smtplib(t, addr, []string{"to@prospect.com", "blind3@prospect.com"},
				"From: rep@acme.test\r\nTo: to@prospect.com\r\nBcc: blind3@prospect.com\r\nResent-Bcc: blind3@prospect.com\r\nSubject: smtplib bcc\r\n\r\nHello\r\n")
			if n := len(up.deliveries()); n != 6 {
				t.Fatalf("%d copies reached the upstream, want 6", n)
			}
			for _, d := range up.deliveries() {
				head, _, _ := strings.Cut(string(d.Data), "\r\n\r\n")
				if strings.Contains(strings.ToLower(head), "bcc:") || strings.Contains(head, "blind") {
					t.Errorf("the copy to %v shows the blind list:\n%s", d.To, head)
				}
			}
		})
	}
}

// smtplib sends raw to rcpts with Python's smtplib, logged in as the rep.
func smtplib(t *testing.T, addr string, rcpts []string, raw string) {
	t.Helper()
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Fatal("python3 is needed to send with smtplib")
	}
	host, port, _ := strings.Cut(addr, ":")
	script := filepath.Join(t.TempDir(), "send.py")
	src := fmt.Sprintf(`import smtplib, sys
s = smtplib.SMTP(%q, %s)
s.login("rep@acme.test", %q)
s.sendmail("rep@acme.test", %s, sys.stdin.buffer.read())
s.quit()
`, host, port, password, pyList(rcpts))
	if err := os.WriteFile(script, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(py, script)
	cmd.Stdin = strings.NewReader(raw)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("smtplib: %v\n%s", err, out)
	}
}

func pyList(s []string) string {
	q := make([]string, len(s))
	for i, v := range s {
		q[i] = fmt.Sprintf("%q", v)
	}
	return "[" + strings.Join(q, ", ") + "]"
}
