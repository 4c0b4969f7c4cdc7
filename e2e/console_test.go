package e2e

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// consoleClient logs in to the console of the gateway at web, over plain
// HTTP on loopback (insecure_cookie), and returns the status of the login.
func consoleLogin(t *testing.T, web, user, pass string) (*http.Client, int) {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get("http://" + web + "/console/login")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindSubmatch(body)
	if resp.StatusCode != http.StatusOK || m == nil {
		t.Fatalf("console login page: %d\n%s", resp.StatusCode, body)
	}
	resp, err = c.PostForm("http://"+web+"/console/login", url.Values{"csrf": {string(m[1])}, "email": {user}, "password": {pass}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return c, resp.StatusCode
}

// TestConsoleThroughTheBinary: `serve` mounts the console under
// /console/ when [console] enables it; a rep logs in with the password
// and reads the log page; SMTP failures lock the same client out of the
// console, even with the right password.
func TestConsoleThroughTheBinary(t *testing.T) {
	dir := t.TempDir()
	direct, behind, web := freeAddr(t), freeAddr(t), freeAddr(t)
	cfg := writeConfig(t, dir, lockoutConfig(dir, direct, behind, web)+`
[console]
enabled = true
insecure_cookie = true
`)
	addUser(t, "rep@acme.test", "--config", cfg)
	addUser(t, "ok@acme.test", "--config", cfg)
	startGateway(t, direct, "--config", cfg)

	c, code := consoleLogin(t, web, "ok@acme.test", password)
	if code != http.StatusSeeOther {
		t.Fatalf("console login of a rep: %d, want 303", code)
	}
	resp, err := c.Get("http://" + web + "/console/log")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "ok@acme.test") ||
		!strings.HasPrefix(resp.Header.Get("Content-Security-Policy"), "default-src 'none'") {
		t.Fatalf("log page through the binary: %d\n%s", resp.StatusCode, body)
	}

	for i := range 3 {
		if code := smtpLogin(t, direct, "", "guess"); code != 535 {
			t.Fatalf("wrong password %d: %d, want 535", i+1, code)
		}
	}
	if _, code := consoleLogin(t, web, "rep@acme.test", password); code != http.StatusTooManyRequests {
		t.Fatalf("console login, right password, after 3 SMTP failures: %d, want 429", code)
	}
}
