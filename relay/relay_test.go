package relay

import (
	"fmt"
	"log/slog"
	"net/netip"
	"strings"
	"testing"
)

func TestSendAuthenticated(t *testing.T) {
	e := testServer(t)
	c := goClient(t, e.addr(0))
	authPlain(t, c)
	if err := c.SendMail(repEmail, []string{"a@example.com", "b@example.org"}, strings.NewReader(message(repEmail, "hi"))); err != nil {
		t.Fatal(err)
	}
	calls := e.fwd.got()
	if len(calls) != 1 {
		t.Fatalf("forwarded %d messages, want 1", len(calls))
	}
	env := calls[0].env
	if env.From != repEmail || len(env.Rcpts) != 2 || env.Rcpts[0].Addr != "a@example.com" || env.Rcpts[1].Addr != "b@example.org" {
		t.Errorf("envelope %+v", env)
	}
	if calls[0].body != message(repEmail, "hi") {
		t.Errorf("body %q", calls[0].body)
	}
	if len(env.Ref) != 8 {
		t.Errorf("ref %q", env.Ref)
	}
	if _, ok := calls[0].ctx.Deadline(); !ok {
		t.Error("forwarder context has no deadline")
	}
}

func TestDeliveredReply(t *testing.T) {
	e := testServer(t)
	c := e.login(t)
	c.must("MAIL FROM:<rep@acme.fr>", 250)
	c.must("RCPT TO:<a@example.com>", 250)
	c.must("RCPT TO:<b@example.com>", 250)
	c.must("DATA", 354)
	c.send(message(repEmail, "x") + ".\r\n")
	got := c.expect(250)
	ref := refOf(t, got)
	if want := "250 2.0.0 Delivered to 2 recipient(s) (ref " + ref + ")"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if calls := e.fwd.got(); len(calls) != 1 || calls[0].env.Ref != ref {
		t.Errorf("forwarder ref %v, reply ref %s", calls, ref)
	}
}

// withTrusted trusts a network on the first listener.
func withTrusted(prefix, identity string) option {
	return func(o *Options) {
		p := netip.MustParsePrefix(prefix)
		o.Listeners[0].Trusted = append(o.Listeners[0].Trusted, TrustedNet{Net: p, Identity: identity})
	}
}

func TestNoAuthNoRelay(t *testing.T) {
	e := testServer(t)
	c := dialRaw(t, e.addr(0))
	c.ehlo()
	if got := c.cmd("MAIL FROM:<rep@acme.fr>"); got != "530 5.7.0 Authentication required" {
		t.Errorf("MAIL: %q", got)
	}
	if got := c.cmd("RCPT TO:<a@example.com>"); !strings.HasPrefix(got, "502 5.5.1") {
		t.Errorf("RCPT: %q", got)
	}
	if got := c.cmd("DATA"); !strings.HasPrefix(got, "502 5.5.1") {
		t.Errorf("DATA: %q", got)
	}
	if n := len(e.fwd.got()); n != 0 {
		t.Errorf("forwarded %d", n)
	}
}

func TestSenderRules(t *testing.T) {
	e := testServer(t)
	c := e.login(t)
	allowed := []string{"rep@acme.fr", "REP@ACME.FR", "anyone@sales.acme.fr", "x@SALES.acme.fr", "rep.alias@acme.fr"}
	for _, from := range allowed {
		c.must("MAIL FROM:<"+from+">", 250)
		c.must("RSET", 250)
	}
	refused := []string{"boss@acme.fr", "x@sub.sales.acme.fr", "rep@acme.fr.evil.com", "x@ales.acme.fr"}
	for _, from := range refused {
		got := c.cmd("MAIL FROM:<" + from + ">")
		ref := refOf(t, got)
		if want := "553 5.7.1 <" + from + ">: you may not send as this address (ref " + ref + ")"; got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	}
	if got := c.cmd("MAIL FROM:<>"); !strings.HasPrefix(got, "553 5.7.1 <>: you may not send as this address (ref ") {
		t.Errorf("null sender: %q", got)
	}
}

func TestFromHeaderRefused(t *testing.T) {
	e := testServer(t)
	c := e.login(t)
	c.must("MAIL FROM:<rep@acme.fr>", 250)
	c.must("RCPT TO:<a@example.com>", 250)
	c.must("DATA", 354)
	c.send(message("The CEO <ceo@other.com>", "x") + ".\r\n")
	got := c.reply()
	ref := refOf(t, got)
	if want := "550 5.7.1 From: header <ceo@other.com> not permitted for this account (ref " + ref + ")"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if n := len(e.fwd.got()); n != 0 {
		t.Errorf("forwarded %d", n)
	}
	logs := e.logs.String()
	if !strings.Contains(logs, "ref="+ref) || !strings.Contains(logs, "reason=sender") {
		t.Errorf("refusal not logged with ref and reason:\n%s", logs)
	}
}

func TestCheckHeaders(t *testing.T) {
	sendAs := []string{"rep@acme.fr", "@sales.acme.fr"}
	tests := []struct {
		name, header string
		want         string // "" for allowed, else the reply's start
	}{
		{"plain", "From: rep@acme.fr\r\n", ""},
		{"display name", "From: \"Rep, Sales\" <rep@acme.fr>\r\n", ""},
		{"RFC 2047 name, known charset", "From: =?utf-8?q?Ren=C3=A9?= <rep@acme.fr>\r\n", ""},
		{"RFC 2047 name, unknown charset", "From: =?windows-1252?q?Ren=E9?= <x@sales.acme.fr>\r\n", ""},
		{"two allowed", "From: rep@acme.fr, b@sales.acme.fr\r\n", ""},
		{"second address foreign", "From: rep@acme.fr, ceo@other.com\r\n", "550 5.7.1 From: header <ceo@other.com>"},
		{"subdomain", "From: a@x.sales.acme.fr\r\n", "550 5.7.1"},
		{"no From", "Subject: x\r\n", "550 5.6.0 Message must have exactly one From: header, it has 0"},
		{"two From", "From: rep@acme.fr\r\nFrom: rep@acme.fr\r\n", "550 5.6.0 Message must have exactly one From: header, it has 2"},
		{"empty group", "From: undisclosed:;\r\n", "550 5.6.0 From: header has no valid address"},
		{"garbage", "From: <<<\r\n", "550 5.6.0"},
		{"sender allowed", "From: a@sales.acme.fr\r\nSender: rep@acme.fr\r\n", ""},
		{"sender foreign", "From: rep@acme.fr\r\nSender: pa@other.com\r\n", "550 5.7.1 Sender: header <pa@other.com>"},
		{"two Sender", "From: rep@acme.fr\r\nSender: rep@acme.fr\r\nSender: rep@acme.fr\r\n", "550 5.6.0"},
		{"space before colon", "From : ceo@other.com\r\nFrom: rep@acme.fr\r\n", "550 5.6.0"},
		// RFC 2047 §5: no encoded word in an address; a reader decoding one
		// would show boss@evil.example.
		{"encoded word in From local part", "From: =?utf-8?q?boss=40evil.example=3E?=@sales.acme.fr\r\n",
			"550 5.6.0 From: header address holds an encoded word, not allowed in an address (RFC 2047 section 5)"},
		{"encoded word, quoted", "From: Boss <\"=?utf-8?q?boss=40evil.example?=\"@sales.acme.fr>\r\n", "550 5.6.0 From: header address holds an encoded word"},
		{"encoded word, second address", "From: rep@acme.fr, =?utf-8?b?Ym9zcw==?=@sales.acme.fr\r\n", "550 5.6.0 From: header address holds an encoded word"},
		{"encoded word in Sender", "From: rep@acme.fr\r\nSender: =?utf-8?q?boss=40evil.example?=@sales.acme.fr\r\n",
			"550 5.6.0 Sender: header address holds an encoded word"},
		{"equals and question marks alone", "From: a=b?c@sales.acme.fr\r\n", ""},
	}
	for _, tt := range tests {
		err := checkHeaders([]byte(tt.header+"\r\nbody\r\n"), sendAs)
		got := ""
		if err != nil {
			se := toSMTP(err, "", slog.New(slog.DiscardHandler))
			got = fmt.Sprintf("%d %d.%d.%d %s", se.Code, se.EnhancedCode[0], se.EnhancedCode[1], se.EnhancedCode[2], se.Message)
		}
		if (tt.want == "") != (got == "") || !strings.HasPrefix(got, tt.want) {
			t.Errorf("%s: got %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestMayUse(t *testing.T) {
	sendAs := []string{" Rep@Acme.fr ", "@Sales.Acme.FR"}
	for addr, want := range map[string]bool{
		"rep@acme.fr": true, "REP@acme.FR": true, "x@sales.acme.fr": true,
		"rep2@acme.fr": false, "x@a.sales.acme.fr": false, "sales.acme.fr": false,
		"@sales.acme.fr": false, "rep@": false, "": false, `"a@b"@sales.acme.fr`: true,
	} {
		if got := mayUse(sendAs, addr); got != want {
			t.Errorf("mayUse(%q) = %v", addr, got)
		}
	}
}

func TestTrustedNetwork(t *testing.T) {
	e := testServer(t, withTrusted("127.0.0.0/8", botEmail), withTrusted("10.0.0.0/8", "x@acme.fr"))
	if logs := e.logs.String(); !strings.Contains(logs, "net=127.0.0.0/8 identity=crm@acme.fr") {
		t.Errorf("trusted networks not logged:\n%s", logs)
	}
	c := dialRaw(t, e.addr(0))
	c.ehlo()
	got := c.cmd("MAIL FROM:<rep@acme.fr>") // not one of crm@'s addresses
	if !strings.HasPrefix(got, "553 5.7.1 <rep@acme.fr>: you may not send as this address") {
		t.Errorf("sender rules of the identity: %q", got)
	}
	c.must("MAIL FROM:<crm@acme.fr>", 250)
	c.must("RCPT TO:<a@example.com>", 250)
	c.must("DATA", 354)
	c.send(message("News <letter@news.acme.fr>", "x") + ".\r\n")
	c.expect(250)
	if calls := e.fwd.got(); len(calls) != 1 || calls[0].env.From != botEmail {
		t.Errorf("forwarded %+v", calls)
	}
	if !strings.Contains(e.logs.String(), "user=crm@acme.fr how=trusted") {
		t.Errorf("transaction not logged as trusted:\n%s", e.logs.String())
	}
}

func TestTrustedUnknownIdentity(t *testing.T) {
	e := testServer(t, withTrusted("127.0.0.1/32", "ghost@acme.fr"))
	c := dialRaw(t, e.addr(0))
	c.ehlo()
	if got := c.cmd("MAIL FROM:<ghost@acme.fr>"); got != "451 4.3.5 Trusted network identity unknown, ask the administrator" {
		t.Errorf("got %q", got)
	}
	if !strings.Contains(e.logs.String(), "ghost@acme.fr") {
		t.Errorf("unknown identity not logged:\n%s", e.logs.String())
	}
}

func TestTrustedMostSpecific(t *testing.T) {
	l := &listener{cfg: Listener{Trusted: []TrustedNet{
		{Net: netip.MustParsePrefix("10.0.0.0/8"), Identity: "wide@x"},
		{Net: netip.MustParsePrefix("10.1.0.0/16"), Identity: "narrow@x"},
	}}}
	if id, ok := l.trustedIdentity(netip.MustParseAddr("10.1.2.3")); !ok || id != "narrow@x" {
		t.Errorf("got %q %v", id, ok)
	}
	if _, ok := l.trustedIdentity(netip.MustParseAddr("192.0.2.1")); ok {
		t.Error("outsider trusted")
	}
}

func TestOptionsValidate(t *testing.T) {
	_, err := New(Options{Listeners: []Listener{
		{Name: "a"},
		{Name: "b", Addr: "127.0.0.1:0", Mode: ModeStartTLS, AllowInsecureAuth: true},
		{Name: "c", Addr: "127.0.0.1:0", Trusted: []TrustedNet{{}}},
	}}, newFakeUsers(t), testLogin(t, newFakeUsers(t), newFakeAttempts(), nil), newFakeForwarder(), slog.New(slog.DiscardHandler))
	for _, want := range []string{`("a"): no address`, `("b"): mode starttls needs a TLS config`, `("b"): AllowInsecureAuth`, `("c"): trusted network`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v lacks %q", err, want)
		}
	}
}

func TestTrustedDisabledIdentity(t *testing.T) {
	e := testServer(t, withTrusted("127.0.0.1/32", botEmail))
	e.users.disable(botEmail)
	c := dialRaw(t, e.addr(0))
	c.ehlo()
	if got := c.cmd("MAIL FROM:<crm@acme.fr>"); got != "451 4.3.5 Trusted network identity disabled, ask the administrator" {
		t.Errorf("got %q", got)
	}
}
