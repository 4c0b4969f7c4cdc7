package e2e

import (
	"encoding/xml"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/dncgate/dncgate/internal/testcert"
	"howett.net/plist"
)

// A rep's mail client set up from each file reaches the submission
// listener with the TLS mode and user name the file gives, and sends.
func TestMailClientAutoconfig(t *testing.T) {
	dir := t.TempDir()
	up := startUpstream(t)
	cert, key, _ := testcert.New(t, "gw.test").WriteFiles(t, dir)
	smtpAddr, webAddr := freeAddr(t), freeAddr(t)
	cfg := writeConfig(t, dir, fmt.Sprintf(`
[server]
hostname = "gw.sales.acme.test"
data_dir = %[1]q

[[listener]]
name = "local"
address = "127.0.0.1:0"
tls = "none"

[[listener]]
name = "submission"
address = %[2]q
tls = "starttls"
cert_file = %[3]q
key_file = %[4]q

[upstream]
url = "smtp://%[5]s"

[web]
listen = %[6]q

[autoconfig]
enabled = true
imap_host = "imap.acme.test"
display_name = "Acme sales"
`, dir, smtpAddr, cert, key, up.addr, webAddr))
	addUser(t, "rep@acme.test", "--config", cfg)
	startGateway(t, smtpAddr, "--config", cfg)
	_, smtpPort, _ := net.SplitHostPort(smtpAddr)

	fetch := func(method, path, body string) []byte {
		t.Helper()
		req, _ := http.NewRequest(method, "http://"+webAddr+path, strings.NewReader(body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, b)
		}
		return b
	}
	// send uses what a file said: its port, STARTTLS, its user name.
	send := func(from string, port int, user, rcpt string) {
		t.Helper()
		if strconv.Itoa(port) != smtpPort {
			t.Fatalf("%s: port %d, the submission listener is on %s", from, port, smtpPort)
		}
		out, code := swaks(t, "--server", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), "--tls", "--auth", "PLAIN",
			"--auth-user", user, "--auth-password", password, "--from", "rep@acme.test", "--to", rcpt)
		if code != 0 || !strings.Contains(out, "250 2.0.0") {
			t.Fatalf("%s: a client set up from it cannot send: swaks exit %d\n%s", from, code, out)
		}
	}

	var tb struct {
		Provider struct {
			Domain   string `xml:"domain"`
			Outgoing struct {
				Host   string `xml:"hostname"`
				Port   int    `xml:"port"`
				Socket string `xml:"socketType"`
				User   string `xml:"username"`
			} `xml:"outgoingServer"`
		} `xml:"emailProvider"`
	}
	if err := xml.Unmarshal(fetch("GET", "/.well-known/autoconfig/mail/config-v1.1.xml?emailaddress=rep%40acme.test", ""), &tb); err != nil {
		t.Fatal(err)
	}
	o := tb.Provider.Outgoing
	if o.Host != "gw.sales.acme.test" || o.Socket != "STARTTLS" || o.User != "%EMAILADDRESS%" || tb.Provider.Domain != "acme.test" {
		t.Fatalf("Thunderbird file: %+v", tb.Provider)
	}
	send("Thunderbird", o.Port, strings.ReplaceAll(o.User, "%EMAILADDRESS%", "rep@acme.test"), "tb@prospect.test")

	var ad struct {
		Response struct {
			Account struct {
				Protocols []struct {
					Type, Server, LoginName, Encryption string
					Port                                int
				} `xml:"Protocol"`
			} `xml:"Account"`
		} `xml:"Response"`
	}
	req := `<?xml version="1.0" encoding="utf-8"?><Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006"><Request><EMailAddress>rep@acme.test</EMailAddress><AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a</AcceptableResponseSchema></Request></Autodiscover>`
	if err := xml.Unmarshal(fetch("POST", "/autodiscover/autodiscover.xml", req), &ad); err != nil {
		t.Fatal(err)
	}
	ps := ad.Response.Account.Protocols
	if len(ps) != 2 || ps[1].Type != "SMTP" || ps[1].Encryption != "TLS" || ps[0].Server != "imap.acme.test" {
		t.Fatalf("Autodiscover: %+v", ps)
	}
	send("Autodiscover", ps[1].Port, ps[1].LoginName, "ad@prospect.test")

	var apple struct {
		Content []struct {
			Port int    `plist:"OutgoingMailServerPortNumber"`
			User string `plist:"OutgoingMailServerUsername"`
			SSL  bool   `plist:"OutgoingMailServerUseSSL"`
		} `plist:"PayloadContent"`
	}
	if _, err := plist.Unmarshal(fetch("GET", "/autoconfig/apple.mobileconfig?email="+url.QueryEscape("rep@acme.test"), ""), &apple); err != nil {
		t.Fatal(err)
	}
	if len(apple.Content) != 1 || !apple.Content[0].SSL {
		t.Fatalf("Apple profile: %+v", apple)
	}
	send("Apple profile", apple.Content[0].Port, apple.Content[0].User, "apple@prospect.test")
	if got := up.count(); got["tb@prospect.test"] != 1 || got["ad@prospect.test"] != 1 || got["apple@prospect.test"] != 1 {
		t.Fatalf("upstream counts %v", got)
	}
}

// A configuration that would set clients up to send passwords in the
// clear is refused with the key at fault.
func TestAutoconfigNeedsTLS(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "dncgate.toml")
	os.WriteFile(cfg, []byte("[autoconfig]\nenabled = true\n"), 0o600)
	out, err := exec.Command(binary, "config", "check", "--config", cfg).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "autoconfig.enabled: no [[listener]] has TLS") {
		t.Fatalf("config check: %v\n%s", err, out)
	}
}
