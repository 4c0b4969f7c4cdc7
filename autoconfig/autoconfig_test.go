package autoconfig

import (
	"encoding/xml"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"howett.net/plist"
)

var acme = Settings{
	Submission:  Server{Host: "smtp.acme.example", Port: 587, TLS: StartTLS},
	IMAP:        &Server{Host: "imap.acme.example", Port: 993, TLS: Implicit},
	DisplayName: "Acme sales mail",
	Domain:      "acme.example",
}

func get(t *testing.T, h http.Handler, method, target, body string) *httptest.ResponseRecorder {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, target, strings.NewReader(body)))
	return rec
}

// The Thunderbird file reads back in the clientConfig 1.1 shape, with
// the socket types and authentication names Thunderbird knows.
func TestThunderbird(t *testing.T) {
	h := Handler(acme)
	for _, path := range []string{PathThunderbird, PathThunderbirdWellKnow} {
		rec := get(t, h, "GET", path+"?emailaddress=ann%40sales.acme.example", "")
		if rec.Code != 200 || !strings.HasPrefix(rec.Header().Get("Content-Type"), "application/xml") {
			t.Fatalf("%s: %d %s", path, rec.Code, rec.Header().Get("Content-Type"))
		}
		var c tbConfig
		if err := xml.Unmarshal(rec.Body.Bytes(), &c); err != nil {
			t.Fatal(err)
		}
		out, in := c.Provider.Outgoing, c.Provider.Incoming
		if c.Version != "1.1" || c.Provider.Domain != "sales.acme.example" || len(out) != 1 || len(in) != 1 {
			t.Fatalf("%s: %+v", path, c)
		}
		if out[0] != (tbServer{Type: "smtp", Hostname: "smtp.acme.example", Port: 587, Socket: "STARTTLS", Auth: "password-cleartext", Username: "%EMAILADDRESS%"}) {
			t.Errorf("outgoing server %+v", out[0])
		}
		if in[0].Type != "imap" || in[0].Socket != "SSL" || in[0].Port != 993 {
			t.Errorf("incoming server %+v", in[0])
		}
	}
	// No address given: the configured domain; no IMAP: outgoing only.
	noIMAP := acme
	noIMAP.IMAP = nil
	noIMAP.Submission = Server{Host: "smtp.acme.example", Port: 465, TLS: Implicit}
	var c tbConfig
	xml.Unmarshal(get(t, Handler(noIMAP), "GET", PathThunderbird, "").Body.Bytes(), &c)
	if c.Provider.Domain != "acme.example" || len(c.Provider.Incoming) != 0 || c.Provider.Outgoing[0].Socket != "SSL" {
		t.Errorf("without an address or IMAP: %+v", c)
	}
	for _, bad := range []string{"not-an-address", "a%40b%40c", "%3Cx%40y%3E", "x%40y%0d%0aBcc:%20z%40w", strings.Repeat("a", 250) + "%40b.example"} {
		if rec := get(t, h, "GET", PathThunderbird+"?emailaddress="+bad, ""); rec.Code != 400 || !strings.Contains(rec.Body.String(), "emailaddress") {
			t.Errorf("emailaddress=%s: %d %s", bad, rec.Code, rec.Body)
		}
	}
}

const adRequestBody = `<?xml version="1.0" encoding="utf-8"?>
<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006">
  <Request>
    <EMailAddress>ann@acme.example</EMailAddress>
    <AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a</AcceptableResponseSchema>
  </Request>
</Autodiscover>`

// The Autodiscover answer is in the 2006a response schema, names the
// login and both servers; a malformed request gets Outlook's error 600.
func TestAutodiscover(t *testing.T) {
	h := Handler(acme)
	for _, path := range []string{PathAutodiscover, PathAutodiscoverUpper} {
		rec := get(t, h, "POST", path, adRequestBody)
		body := rec.Body.String()
		if rec.Code != 200 || !strings.Contains(body, `<Autodiscover xmlns="`+nsResponse+`">`) || !strings.Contains(body, `<Response xmlns="`+nsOutlook+`">`) {
			t.Fatalf("%s: %d\n%s", path, rec.Code, body)
		}
		var resp struct {
			Response struct {
				Account adAccount `xml:"Account"`
			} `xml:"Response"`
		}
		if err := xml.Unmarshal(rec.Body.Bytes(), &resp); err != nil {
			t.Fatal(err)
		}
		ps := resp.Response.Account.Protocols
		if resp.Response.Account.Action != "settings" || len(ps) != 2 || ps[0].Type != "IMAP" || ps[1].Type != "SMTP" {
			t.Fatalf("account %+v", resp.Response.Account)
		}
		if s := ps[1]; s.Server != "smtp.acme.example" || s.Port != 587 || s.Encryption != "TLS" || s.LoginName != "ann@acme.example" || s.AuthRequired != "on" {
			t.Errorf("SMTP protocol %+v", s)
		}
		if ps[0].Encryption != "SSL" {
			t.Errorf("IMAP protocol %+v", ps[0])
		}
	}
	for _, bad := range []string{"", "<Autodiscover>", strings.Replace(adRequestBody, "ann@acme.example", "<x>", 1),
		strings.Repeat(" ", maxRequest+1) + adRequestBody} {
		rec := get(t, h, "POST", PathAutodiscover, bad)
		if !strings.Contains(rec.Body.String(), "<ErrorCode>600</ErrorCode>") || strings.Contains(rec.Body.String(), "smtp.acme.example") {
			t.Errorf("bad request %.40q answered:\n%s", bad, rec.Body)
		}
	}
	if rec := get(t, h, "GET", PathAutodiscover, ""); rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("GET autodiscover: %d", rec.Code)
	}
}

// The Apple profile is a property list with one com.apple.mail.managed
// payload, the address as user name, and no password.
func TestAppleProfile(t *testing.T) {
	h := Handler(acme)
	rec := get(t, h, "GET", PathApple+"?email=ann%40acme.example", "")
	if rec.Code != 200 || rec.Header().Get("Content-Type") != "application/x-apple-aspen-config" ||
		!strings.Contains(rec.Header().Get("Content-Disposition"), "attachment") {
		t.Fatalf("%d %v", rec.Code, rec.Header())
	}
	var p map[string]any
	if _, err := plist.Unmarshal(rec.Body.Bytes(), &p); err != nil {
		t.Fatal(err)
	}
	if p["PayloadType"] != "Configuration" || p["PayloadVersion"] != uint64(1) {
		t.Fatalf("profile %v", p)
	}
	mails := p["PayloadContent"].([]any)
	m := mails[0].(map[string]any)
	for k, want := range map[string]any{"PayloadType": "com.apple.mail.managed", "EmailAccountType": "EmailTypeIMAP",
		"OutgoingMailServerHostName": "smtp.acme.example", "OutgoingMailServerPortNumber": uint64(587),
		"OutgoingMailServerUseSSL": true, "OutgoingMailServerUsername": "ann@acme.example",
		"IncomingMailServerHostName": "imap.acme.example", "EmailAddress": "ann@acme.example"} {
		if m[k] != want {
			t.Errorf("%s = %v (%T), want %v", k, m[k], m[k], want)
		}
	}
	if strings.Contains(strings.ToLower(rec.Body.String()), "password</key>") && !strings.Contains(rec.Body.String(), "OutgoingPasswordSameAsIncomingPassword") {
		t.Error("the profile carries a password")
	}
	// A second download names the same payload, so it replaces the first.
	again := get(t, h, "GET", PathApple+"?email=ann%40acme.example", "")
	if again.Body.String() != rec.Body.String() {
		t.Error("two downloads differ: the profile would be installed twice")
	}
	if rec := get(t, h, "GET", PathApple, ""); rec.Code != 400 {
		t.Errorf("no email: %d", rec.Code)
	}
	noIMAP := acme
	noIMAP.IMAP = nil
	if rec := get(t, Handler(noIMAP), "GET", PathApple+"?email=ann%40acme.example", ""); rec.Code != 404 || !strings.Contains(rec.Body.String(), "imap_host") {
		t.Errorf("without IMAP: %d %s", rec.Code, rec.Body)
	}
}

func TestSettingsCheck(t *testing.T) {
	if err := acme.Check(); err != nil {
		t.Fatal(err)
	}
	for _, s := range []Settings{
		{Submission: Server{Host: "", Port: 587, TLS: StartTLS}},
		{Submission: Server{Host: "h", Port: 0, TLS: StartTLS}},
		{Submission: Server{Host: "h", Port: 25, TLS: "none"}},
		{Submission: Server{Host: "h", Port: 587, TLS: StartTLS}, IMAP: &Server{Host: "i", Port: 993, TLS: ""}},
	} {
		if err := s.Check(); err == nil {
			t.Errorf("%+v accepted", s)
		}
	}
}
