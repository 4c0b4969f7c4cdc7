package upstream

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/dncgate/dncgate/smtpreply"
	"github.com/emersion/go-smtp"
)

const testFrom = "rep@sales.test"

func newTestTarget(t testing.TB, rawURL string, o TargetOptions) Target {
	t.Helper()
	spec, err := ParseURL(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	tg, err := NewTarget(spec, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tg.Close() })
	return tg
}

func testBody(subject string) []byte {
	return []byte("From: <" + testFrom + ">\r\nSubject: " + subject + "\r\n\r\nHello.\r\n.leading dot\r\n")
}

func sendTo(tg Target, rcpt string, body []byte) error {
	return tg.Send(context.Background(), testFrom, &smtp.MailOptions{}, Rcpt{Addr: rcpt}, body)
}

// wantError checks err is an *Error with the given code, enhanced code and
// temporariness.
func wantError(t testing.TB, err error, code int, ec smtp.EnhancedCode, temp bool) *smtpreply.Error {
	t.Helper()
	var e *smtpreply.Error
	if !errors.As(err, &e) {
		t.Fatalf("err = %v (%T), want *Error", err, err)
	}
	if e.Code != code || e.Enhanced != ec || e.Temporary() != temp {
		t.Fatalf("err = %v (temporary %v), want %d %v temporary %v", e, e.Temporary(), code, ec, temp)
	}
	return e
}

func TestSMTPHappyPath(t *testing.T) {
	up := startUpstream(t, nil)
	tg := newTestTarget(t, "smtp://"+up.addr, TargetOptions{})
	body := testBody("hello")
	if err := sendTo(tg, "ann@example.com", body); err != nil {
		t.Fatal(err)
	}
	got := up.received()
	if len(got) != 1 {
		t.Fatalf("upstream got %d messages, want 1", len(got))
	}
	m := got[0]
	if m.From != testFrom || len(m.Rcpts) != 1 || m.Rcpts[0] != "ann@example.com" {
		t.Errorf("envelope = %q %q", m.From, m.Rcpts)
	}
	if !bytes.Equal(m.Body, body) {
		t.Errorf("body = %q, want %q", m.Body, body)
	}
}

func TestSMTPAuth(t *testing.T) {
	pki := newPKI(t)
	ca := TargetOptions{CAFile: pki.caFile}
	tests := []struct {
		name     string
		scheme   string
		implicit bool
		pass     string
		wantErr  bool
	}{
		{"starttls", "smtp+starttls", false, "s3cret", false},
		{"implicit TLS", "smtps", true, "s3cret", false},
		{"plain to loopback", "smtp", false, "s3cret", false},
		{"wrong password", "smtp+starttls", false, "guess", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var implicit = pki.server
			if !tt.implicit {
				implicit = nil
			}
			up := startUpstream(t, implicit, withStartTLS(pki.server), withAuth("gw@corp.test", "s3cret"),
				withServer(func(s *smtp.Server) { s.AllowInsecureAuth = tt.scheme == "smtp" }))
			tg := newTestTarget(t, tt.scheme+"://gw%40corp.test:"+tt.pass+"@"+up.addr, ca)
			err := sendTo(tg, "ann@example.com", testBody("auth"))
			if tt.wantErr {
				wantError(t, err, smtpreply.CodeLocalError, smtpreply.Misconfigured.Enhanced, true)
				if n := len(up.received()); n != 0 {
					t.Fatalf("upstream got %d messages after failed AUTH", n)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if n := len(up.received()); n != 1 {
				t.Fatalf("upstream got %d messages, want 1", n)
			}
		})
	}
}

func TestSMTPTLSVerification(t *testing.T) {
	pki := newPKI(t)
	tests := []struct {
		name     string
		scheme   string
		opts     TargetOptions
		wantTLSX bool // want a certificate verification failure
	}{
		{"starttls trusted CA", "smtp+starttls", TargetOptions{CAFile: pki.caFile}, false},
		{"starttls unknown CA", "smtp+starttls", TargetOptions{}, true},
		{"starttls insecure", "smtp+starttls", TargetOptions{InsecureSkipVerify: true}, false},
		{"smtps trusted CA", "smtps", TargetOptions{CAFile: pki.caFile}, false},
		{"smtps unknown CA", "smtps", TargetOptions{}, true},
		{"smtps insecure", "smtps", TargetOptions{InsecureSkipVerify: true}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			implicit := pki.server
			if tt.scheme != "smtps" {
				implicit = nil
			}
			up := startUpstream(t, implicit, withStartTLS(pki.server))
			tg := newTestTarget(t, tt.scheme+"://"+up.addr, tt.opts)
			err := sendTo(tg, "ann@example.com", testBody("tls"))
			if !tt.wantTLSX {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			e := wantError(t, err, smtpreply.CodeLocalError, smtpreply.ConnLost.Enhanced, true)
			var unknown x509.UnknownAuthorityError
			if !errors.As(err, &unknown) {
				t.Errorf("cause = %v, want an unknown-authority error", e.Cause)
			}
			if len(up.received()) != 0 {
				t.Error("message sent despite a failed certificate check")
			}
		})
	}
}

func TestSMTPStartTLSNotOffered(t *testing.T) {
	up := startUpstream(t, nil)
	tg := newTestTarget(t, "smtp+starttls://"+up.addr, TargetOptions{InsecureSkipVerify: true})
	err := sendTo(tg, "ann@example.com", testBody("no tls"))
	wantError(t, err, smtpreply.CodeLocalError, smtpreply.Unreachable.Enhanced, true)
	if len(up.received()) != 0 {
		t.Error("message sent in clear although STARTTLS is required")
	}
}

func TestSMTPUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	tg := newTestTarget(t, "smtp://"+addr, TargetOptions{})
	e := wantError(t, sendTo(tg, "ann@example.com", testBody("x")), smtpreply.CodeLocalError, smtpreply.Unreachable.Enhanced, true)
	if strings.Contains(e.Text, "127.0.0.1") {
		t.Errorf("client-facing message %q names the upstream address", e.Text)
	}
}

func TestSMTPConnectionReuse(t *testing.T) {
	up := startUpstream(t, nil)
	tg := newTestTarget(t, "smtp://"+up.addr, TargetOptions{})
	for _, s := range []string{"one", "two", "three"} {
		if err := sendTo(tg, "ann@example.com", testBody(s)); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(up.received()); n != 3 {
		t.Fatalf("upstream got %d messages, want 3", n)
	}
	if n := up.connCount(); n != 1 {
		t.Fatalf("upstream saw %d connections, want 1", n)
	}
}

func TestSMTPStalePooledConnection(t *testing.T) {
	up := startUpstream(t, nil)
	tg := newTestTarget(t, "smtp://"+up.addr, TargetOptions{})
	if err := sendTo(tg, "ann@example.com", testBody("first")); err != nil {
		t.Fatal(err)
	}
	up.dropAll()
	if err := sendTo(tg, "bob@example.com", testBody("second")); err != nil {
		t.Fatalf("send on a stale pooled connection: %v", err)
	}
	if d := up.deliveries(); d["bob@example.com"] != 1 {
		t.Fatalf("deliveries = %v, want bob once", d)
	}
	if n := up.connCount(); n != 2 {
		t.Fatalf("upstream saw %d connections, want 2", n)
	}
}

// An upstream that timed out an idle connection answers the next command
// with 421 and hangs up (RFC 5321 §3.8): retry on a fresh connection.
func TestSMTPStale421(t *testing.T) {
	up := startScripted(t, []string{"8BITMIME"}, func(c int, verb string, n int) string {
		if c == 1 && verb == "MAIL" && n == 2 {
			return "421 4.4.2 idle too long"
		}
		return ""
	})
	tg := newTestTarget(t, "smtp://"+up.addr, TargetOptions{})
	for _, s := range []string{"one", "two"} {
		if err := sendTo(tg, "ann@example.com", testBody(s)); err != nil {
			t.Fatalf("send %s: %v", s, err)
		}
	}
	if n := len(up.received()); n != 2 {
		t.Fatalf("upstream got %d messages, want 2", n)
	}
}

// A 421 after MAIL was accepted is not retried: the connection is closed
// and the recipient gets a temporary error.
func TestSMTPRefusals(t *testing.T) {
	tests := []struct {
		act  action
		code int
		ec   smtp.EnhancedCode
		temp bool
		text string
	}{
		{tempRcpt, 451, smtp.EnhancedCode{4, 2, 0}, true, "mailbox busy"},
		{failRcpt, 550, smtp.EnhancedCode{5, 1, 1}, false, "no such user"},
		{tempData, 451, smtp.EnhancedCode{4, 3, 0}, true, "queue full"},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			up := startUpstream(t, nil, withScript(map[string]action{"bad@example.com": tt.act}))
			tg := newTestTarget(t, "smtp://"+up.addr, TargetOptions{})
			e := wantError(t, sendTo(tg, "bad@example.com", testBody("x")), tt.code, tt.ec, tt.temp)
			if e.Text != tt.text {
				t.Errorf("message = %q, want the upstream's %q", e.Text, tt.text)
			}
			if err := sendTo(tg, "ann@example.com", testBody("y")); err != nil {
				t.Fatal(err)
			}
			if n := up.connCount(); n != 1 {
				t.Errorf("upstream saw %d connections, want 1: a refusal must not cost the connection", n)
			}
			if d := up.deliveries(); d["bad@example.com"] != 0 || d["ann@example.com"] != 1 {
				t.Errorf("deliveries = %v", d)
			}
		})
	}
}

// After a refused RCPT the transaction is closed with RSET before the
// connection serves the next message (RFC 5321 §4.1.1.5).
func TestSMTPResetAfterRefusal(t *testing.T) {
	up := startScripted(t, []string{"8BITMIME"}, func(c int, verb string, n int) string {
		if verb == "RCPT" && n == 1 {
			return "550 5.1.1 no such user"
		}
		return ""
	})
	tg := newTestTarget(t, "smtp://"+up.addr, TargetOptions{})
	wantError(t, sendTo(tg, "bad@example.com", testBody("x")), 550, smtp.EnhancedCode{5, 1, 1}, false)
	if err := sendTo(tg, "ann@example.com", testBody("y")); err != nil {
		t.Fatal(err)
	}
	var verbs []string
	for _, c := range up.commands() {
		verbs = append(verbs, strings.SplitN(c, " ", 2)[0])
	}
	want := "EHLO MAIL RCPT RSET EHLO MAIL RCPT DATA"
	if got := strings.Join(verbs, " "); got != want {
		t.Fatalf("commands = %s, want %s", got, want)
	}
}

func TestSMTPDropMidData(t *testing.T) {
	up := startUpstream(t, nil, withScript(map[string]action{"drop@example.com": dropData}))
	tg := newTestTarget(t, "smtp://"+up.addr, TargetOptions{})
	body := bytes.Repeat([]byte("0123456789abcdef0123456789abcdef\r\n"), 2000)
	wantError(t, sendTo(tg, "drop@example.com", body), smtpreply.CodeLocalError, smtpreply.ConnLost.Enhanced, true)
	if n := len(tg.(*smtpTarget).pool.idle); n != 0 {
		t.Fatalf("%d idle connections after a drop, want the broken one discarded", n)
	}
	if err := sendTo(tg, "ann@example.com", testBody("after")); err != nil {
		t.Fatal(err)
	}
	if n := up.connCount(); n != 2 {
		t.Fatalf("upstream saw %d connections, want 2", n)
	}
}

func TestSMTPSlowUpstream(t *testing.T) {
	up := startUpstream(t, nil, withScript(map[string]action{"slow@example.com": slowData}))
	tg := newTestTarget(t, "smtp://"+up.addr, TargetOptions{DataTimeout: 300 * time.Millisecond})
	err := sendTo(tg, "slow@example.com", testBody("slow"))
	wantError(t, err, smtpreply.CodeLocalError, smtpreply.ConnLost.Enhanced, true)
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("cause = %v, want the DATA timeout", err)
	}
	if n := len(tg.(*smtpTarget).pool.idle); n != 0 {
		t.Fatalf("%d idle connections after a timeout, want 0", n)
	}
}

func TestSMTPContextBoundsSend(t *testing.T) {
	up := startUpstream(t, nil, withScript(map[string]action{"slow@example.com": slowData}))
	tg := newTestTarget(t, "smtp://"+up.addr, TargetOptions{DataTimeout: time.Hour})
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	err := tg.Send(ctx, testFrom, nil, Rcpt{Addr: "slow@example.com"}, testBody("slow"))
	wantError(t, err, smtpreply.CodeLocalError, smtpreply.ConnLost.Enhanced, true)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("cause = %v, want the context deadline", err)
	}
}

func TestSMTPParamsPassThrough(t *testing.T) {
	up := startUpstream(t, nil)
	tg := newTestTarget(t, "smtp://"+up.addr, TargetOptions{})
	mo := &smtp.MailOptions{Body: smtp.Body8BitMIME, UTF8: true, Return: smtp.DSNReturnHeaders, EnvelopeID: "env+1=2"}
	rcpt := Rcpt{Addr: "zoë@exämple.fr", Opts: smtp.RcptOptions{
		Notify:                []smtp.DSNNotify{smtp.DSNNotifyFailure, smtp.DSNNotifyDelayed},
		OriginalRecipientType: smtp.DSNAddressTypeRFC822,
		OriginalRecipient:     "zoe@example.fr",
	}}
	body := []byte("Subject: café\r\n\r\nCrème brûlée.\r\n")
	if err := tg.Send(context.Background(), "rép@sales.test", mo, rcpt, body); err != nil {
		t.Fatal(err)
	}
	m := up.received()[0]
	got := m.MailOpts
	if got.Body != smtp.Body8BitMIME || !got.UTF8 || got.Return != smtp.DSNReturnHeaders || got.EnvelopeID != "env+1=2" {
		t.Errorf("MAIL options = %+v", got)
	}
	if m.From != "rép@sales.test" || m.Rcpts[0] != "zoë@exämple.fr" {
		t.Errorf("envelope = %q %q", m.From, m.Rcpts)
	}
	ro := m.RcptOpts[0]
	if len(ro.Notify) != 2 || ro.Notify[0] != smtp.DSNNotifyFailure || ro.Notify[1] != smtp.DSNNotifyDelayed {
		t.Errorf("NOTIFY = %v", ro.Notify)
	}
	if ro.OriginalRecipientType != smtp.DSNAddressTypeRFC822 || ro.OriginalRecipient != "zoe@example.fr" {
		t.Errorf("ORCPT = %s;%s", ro.OriginalRecipientType, ro.OriginalRecipient)
	}
	if !bytes.Equal(m.Body, body) {
		t.Errorf("body = %q", m.Body)
	}
}

// Without DSN at the upstream the DSN parameters are dropped, as a relay
// does (RFC 3461 §4), and the message still goes.
func TestSMTPDSNDroppedWithoutExtension(t *testing.T) {
	up := startUpstream(t, nil, withServer(func(s *smtp.Server) { s.EnableDSN = false }))
	tg := newTestTarget(t, "smtp://"+up.addr, TargetOptions{})
	mo := &smtp.MailOptions{Return: smtp.DSNReturnFull, EnvelopeID: "e1"}
	rcpt := Rcpt{Addr: "ann@example.com", Opts: smtp.RcptOptions{Notify: []smtp.DSNNotify{smtp.DSNNotifyNever}}}
	if err := tg.Send(context.Background(), testFrom, mo, rcpt, testBody("dsn")); err != nil {
		t.Fatal(err)
	}
	m := up.received()[0]
	if m.MailOpts.Return != "" || m.MailOpts.EnvelopeID != "" || len(m.RcptOpts[0].Notify) != 0 {
		t.Errorf("DSN parameters reached an upstream without DSN: %+v %+v", m.MailOpts, m.RcptOpts[0])
	}
}

func TestSMTPUTF8WithoutExtension(t *testing.T) {
	up := startUpstream(t, nil, withServer(func(s *smtp.Server) { s.EnableSMTPUTF8 = false }))
	tg := newTestTarget(t, "smtp://"+up.addr, TargetOptions{})
	utf8 := &smtp.MailOptions{UTF8: true}
	ctx := context.Background()

	err := tg.Send(ctx, testFrom, utf8, Rcpt{Addr: "zoë@exämple.fr"}, testBody("x"))
	wantError(t, err, smtpreply.CodeNotAllowed, smtpreply.NeedUTF8.Enhanced, false)

	err = tg.Send(ctx, testFrom, utf8, Rcpt{Addr: "ann@example.com"}, []byte("Subject: café\r\n\r\nx\r\n"))
	wantError(t, err, smtpreply.CodeTxFailed, smtpreply.UTF8Header.Enhanced, false)

	// Asked for, not needed: sent without SMTPUTF8 (RFC 6531 §3.2).
	if err := tg.Send(ctx, testFrom, utf8, Rcpt{Addr: "ann@example.com"}, testBody("ascii")); err != nil {
		t.Fatal(err)
	}
	got := up.received()
	if len(got) != 1 || got[0].MailOpts.UTF8 {
		t.Fatalf("upstream got %+v, want one message without SMTPUTF8", got)
	}
	if n := up.connCount(); n != 1 {
		t.Errorf("upstream saw %d connections, want 1: local refusals keep the connection", n)
	}
}

func TestSMTP8BitWithoutExtension(t *testing.T) {
	up := startScripted(t, []string{"SIZE"}, func(int, string, int) string { return "" })
	tg := newTestTarget(t, "smtp://"+up.addr, TargetOptions{})
	err := sendTo(tg, "ann@example.com", []byte("Subject: x\r\n\r\nCrème\r\n"))
	wantError(t, err, smtpreply.CodeTxFailed, smtpreply.NoConversion.Enhanced, false)
	for _, c := range up.commands() {
		if strings.HasPrefix(c, "MAIL") {
			t.Fatalf("MAIL sent for an 8-bit message to a 7-bit upstream: %q", c)
		}
	}
	if err := sendTo(tg, "ann@example.com", testBody("seven bit")); err != nil {
		t.Fatal(err)
	}
	if n := len(up.received()); n != 1 {
		t.Fatalf("upstream got %d messages, want 1", n)
	}
}

func TestSMTPRequireTLSOverPlain(t *testing.T) {
	up := startUpstream(t, nil, withServer(func(s *smtp.Server) { s.EnableREQUIRETLS = true }))
	tg := newTestTarget(t, "smtp://"+up.addr, TargetOptions{})
	err := tg.Send(context.Background(), testFrom, &smtp.MailOptions{RequireTLS: true}, Rcpt{Addr: "ann@example.com"}, testBody("x"))
	wantError(t, err, smtpreply.CodeRefused, smtpreply.NeedRequireTLS.Enhanced, false)
	if len(up.received()) != 0 {
		t.Fatal("REQUIRETLS message sent over plain text")
	}
}

func TestSMTPRequireTLSOverTLS(t *testing.T) {
	pki := newPKI(t)
	up := startUpstream(t, pki.server, withServer(func(s *smtp.Server) { s.EnableREQUIRETLS = true }))
	tg := newTestTarget(t, "smtps://"+up.addr, TargetOptions{CAFile: pki.caFile})
	err := tg.Send(context.Background(), testFrom, &smtp.MailOptions{RequireTLS: true}, Rcpt{Addr: "ann@example.com"}, testBody("x"))
	if err != nil {
		t.Fatal(err)
	}
	if got := up.received(); len(got) != 1 || !got[0].MailOpts.RequireTLS {
		t.Fatalf("upstream got %+v, want one REQUIRETLS message", got)
	}
}

func TestSMTPLocalRefusals(t *testing.T) {
	up := startUpstream(t, nil)
	tg := newTestTarget(t, "smtp://"+up.addr, TargetOptions{})
	ctx := context.Background()
	tests := []struct {
		name string
		mo   smtp.MailOptions
		rcpt Rcpt
		code int
		ec   smtp.EnhancedCode
	}{
		{"binarymime", smtp.MailOptions{Body: smtp.BodyBinaryMIME}, Rcpt{Addr: "a@b.fr"}, smtpreply.CodeTxFailed, smtpreply.NoConversion.Enhanced},
		{"line break", smtp.MailOptions{}, Rcpt{Addr: "a@b.fr\r\nRCPT TO:<x@y>"}, smtpreply.CodeBadArgs, smtpreply.BadParam.Enhanced},
		{"bad RET", smtp.MailOptions{Return: "ALL"}, Rcpt{Addr: "a@b.fr"}, smtpreply.CodeBadArgs, smtpreply.BadParam.Enhanced},
		{"NEVER and more", smtp.MailOptions{}, Rcpt{Addr: "a@b.fr", Opts: smtp.RcptOptions{
			Notify: []smtp.DSNNotify{smtp.DSNNotifyNever, smtp.DSNNotifyFailure}}}, smtpreply.CodeBadArgs, smtpreply.BadParam.Enhanced},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantError(t, tg.Send(ctx, testFrom, &tt.mo, tt.rcpt, testBody("x")), tt.code, tt.ec, false)
		})
	}
	if n := len(up.received()); n != 0 {
		t.Fatalf("upstream got %d messages", n)
	}
}

// TestSMTPQuotedLocalPart: go-smtp hands the relay a quoted local part
// without its quotes; the upstream gets it quoted again, or it would be
// another address (or no valid one at all).
func TestSMTPQuotedLocalPart(t *testing.T) {
	up := startScripted(t, []string{"8BITMIME"}, func(int, string, int) string { return "" })
	tg := newTestTarget(t, "smtp://"+up.addr, TargetOptions{})
	if err := sendTo(tg, `jan "de" wit@example.com`, testBody("x")); err != nil {
		t.Fatal(err)
	}
	want := `RCPT TO:<"jan \"de\" wit"@example.com>`
	var got []string
	for _, c := range up.commands() {
		if strings.HasPrefix(c, "RCPT") {
			got = append(got, c)
		}
	}
	if len(got) != 1 || got[0] != want {
		t.Errorf("upstream got %q, want %q", got, want)
	}
}
