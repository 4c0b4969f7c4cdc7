package smtpurl

import (
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		raw  string
		want Spec
		str  string // want String()
	}{
		{"smtp://mail.corp.test", Spec{Scheme: SchemeSMTP, Host: "mail.corp.test", Port: "25"},
			"smtp://mail.corp.test:25"},
		{"smtp+starttls://mail.corp.test", Spec{Scheme: SchemeStartTLS, Host: "mail.corp.test", Port: "587"},
			"smtp+starttls://mail.corp.test:587"},
		{"smtps://mail.corp.test", Spec{Scheme: SchemeSMTPS, Host: "mail.corp.test", Port: "465"},
			"smtps://mail.corp.test:465"},
		{" SMTPS://Mail.Corp.Test:2465 ", Spec{Scheme: SchemeSMTPS, Host: "Mail.Corp.Test", Port: "2465"},
			"smtps://Mail.Corp.Test:2465"},
		{"smtp+starttls://gw%40corp.test:p%3As%40s@mail.corp.test:587",
			Spec{Scheme: SchemeStartTLS, Host: "mail.corp.test", Port: "587", User: "gw@corp.test", Password: "p:s@s"},
			"smtp+starttls://gw%40corp.test:***@mail.corp.test:587"},
		{"smtp://[::1]:2525", Spec{Scheme: SchemeSMTP, Host: "::1", Port: "2525"}, "smtp://[::1]:2525"},
		{"smtp://gw:pw@127.0.0.1:2525/", Spec{Scheme: SchemeSMTP, Host: "127.0.0.1", Port: "2525", User: "gw", Password: "pw"},
			"smtp://gw:***@127.0.0.1:2525"},
		{"outbox:/var/spool/dncgate/", Spec{Scheme: SchemeOutbox, Dir: "/var/spool/dncgate"}, "outbox:/var/spool/dncgate"},
		{"OUTBOX:out", Spec{Scheme: SchemeOutbox, Dir: "out"}, "outbox:out"},
	}
	for _, tt := range tests {
		got, err := Parse(tt.raw)
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.raw, err)
			continue
		}
		if got != tt.want {
			t.Errorf("Parse(%q) = %+v, want %+v", tt.raw, got, tt.want)
		}
		if s := got.String(); s != tt.str {
			t.Errorf("Parse(%q).String() = %q, want %q", tt.raw, s, tt.str)
		}
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct{ raw, want string }{
		{"", "upstream URL: empty"},
		{"smtpx://mail.corp.test", `upstream URL: unknown scheme "smtpx"; want smtp, smtp+starttls, smtps or outbox`},
		{"localhost", "upstream URL: missing scheme; want smtp, smtp+starttls, smtps or outbox"},
		{"smtp://", "upstream URL: missing host"},
		{"smtp:mail.corp.test", "upstream URL: missing host"},
		{"smtp://mail.corp.test:0", `upstream URL: bad port "0"`},
		{"smtp://mail.corp.test:99999", `upstream URL: bad port "99999"`},
		{"smtps://gw:t0ps3cret@mail.corp.test:x", `upstream URL: invalid port ":x" after host`},
		{"smtp://mail.corp.test/relay", `upstream URL: unexpected path "/relay"`},
		{"smtp://mail.corp.test?tls=1", "upstream URL: unexpected query or fragment"},
		{"smtps://gw@mail.corp.test", "upstream URL: user without password"},
		{"smtps://:t0ps3cret@mail.corp.test", "upstream URL: empty user name"},
		{"smtp://gw:t0ps3cret@mail.corp.test", "upstream URL: the password would cross the network unencrypted"},
		{"outbox:", "upstream URL: outbox needs a folder"},
		{"outbox://tmp/out", "upstream URL: write outbox:DIR"},
	}
	for _, tt := range tests {
		_, err := Parse(tt.raw)
		if err == nil {
			t.Errorf("Parse(%q) succeeded, want %q", tt.raw, tt.want)
			continue
		}
		if !strings.HasPrefix(err.Error(), tt.want) {
			t.Errorf("Parse(%q) = %q, want %q", tt.raw, err, tt.want)
		}
		if strings.Contains(err.Error(), "t0ps3cret") {
			t.Errorf("Parse(%q) error shows the password: %q", tt.raw, err)
		}
	}
}
