package relay

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/dncgate/dncgate/relay/upstream"
	"github.com/dncgate/dncgate/smtpreply"
	"github.com/emersion/go-smtp"
)

// startData opens a transaction to the given recipients and reaches 354.
func startData(t *testing.T, c *rawClient, rcpts ...string) {
	t.Helper()
	c.must("MAIL FROM:<rep@acme.fr>", 250)
	for _, r := range rcpts {
		c.must("RCPT TO:<"+r+">", 250)
	}
	c.must("DATA", 354)
}

// SMTP smuggling: a bare LF or CR next to a dot must never end the message
// here nor let a second message through; the whole message is refused.
func TestSmuggling(t *testing.T) {
	for name, seq := range map[string]string{
		`\n.\n`:   "\n.\n",
		`\n.\r\n`: "\n.\r\n",
		`\r\n.\n`: "\r\n.\n",
		`\r.\r\n`: "\r.\r\n",
		`\r.\r`:   "\r.\r",
		// go-smtp does not end DATA here (its reader misses a CRLF right
		// after a bare CR), a downstream server might: refused all the same.
		`\r\r\n.\r\n`: "\r\r\n.\r\n",
	} {
		t.Run(name, func(t *testing.T) {
			e := testServer(t)
			c := e.login(t)
			startData(t, c, "a@example.com")
			c.send("From: rep@acme.fr\r\nSubject: first\r\n\r\nhello" + seq +
				"MAIL FROM:<rep@acme.fr>\r\nRCPT TO:<victim@example.com>\r\nDATA\r\n" +
				"From: rep@acme.fr\r\nSubject: smuggled\r\n\r\nsmuggled\r\n.\r\n")
			got := c.reply()
			ref := refOf(t, got)
			if want := "550 5.6.11 Bare LF/CR not allowed in message (ref " + ref + ")"; got != want {
				t.Fatalf("got %q, want %q", got, want)
			}
			c.must("NOOP", 250) // the stream is in step: nothing was taken as a command
			if calls := e.fwd.got(); len(calls) != 0 {
				t.Fatalf("forwarded %d message(s): %+v", len(calls), calls)
			}
			// The session still works for a clean message, and only that one goes.
			startData(t, c, "b@example.com")
			c.send(message(repEmail, "clean") + ".\r\n")
			c.expect(250)
			if calls := e.fwd.got(); len(calls) != 1 || calls[0].env.Rcpts[0].Addr != "b@example.com" {
				t.Fatalf("forwarded %+v", calls)
			}
		})
	}
}

func TestBareCR(t *testing.T) {
	e := testServer(t)
	c := e.login(t)
	startData(t, c, "a@example.com")
	c.send("From: rep@acme.fr\r\n\r\nline\rwith a CR\r\n.\r\n")
	if got := c.reply(); !strings.HasPrefix(got, "550 5.6.11 Bare LF/CR not allowed in message (ref ") {
		t.Errorf("got %q", got)
	}
	if len(e.fwd.got()) != 0 {
		t.Error("forwarded")
	}
}

func TestMessageTooBig(t *testing.T) {
	e := testServer(t, func(o *Options) { o.MaxMessageBytes = 200 })
	c := e.login(t)
	if got := c.cmd("MAIL FROM:<rep@acme.fr> SIZE=201"); got != "552 5.3.4 Max message size exceeded" {
		t.Errorf("MAIL SIZE=201: %q", got)
	}
	startData(t, c, "a@example.com")
	c.send(message(repEmail, strings.Repeat("x", 200)) + ".\r\n")
	got := c.reply()
	ref := refOf(t, got)
	if want := "552 5.3.4 Message too big, limit 200 bytes (ref " + ref + ")"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if len(e.fwd.got()) != 0 {
		t.Error("forwarded")
	}
	c.must("NOOP", 250)
}

func TestEHLOExtensions(t *testing.T) {
	e := testServer(t, func(o *Options) { o.MaxMessageBytes = 1000 })
	c := goClient(t, e.addr(0))
	for ext, param := range map[string]string{"8BITMIME": "", "SMTPUTF8": "", "DSN": "", "SIZE": "1000", "STARTTLS": "", "PIPELINING": ""} {
		if ok, p := c.Extension(ext); !ok || p != param {
			t.Errorf("%s: advertised %v with %q", ext, ok, p)
		}
	}
}

func TestTooManyRecipients(t *testing.T) {
	e := testServer(t, func(o *Options) { o.MaxRecipients = 2 })
	c := e.login(t)
	c.must("MAIL FROM:<rep@acme.fr>", 250)
	c.must("RCPT TO:<a@example.com>", 250)
	c.must("RCPT TO:<A@example.com>", 250) // the same mailbox: no second copy
	c.must("RCPT TO:<b@example.com>", 250)
	got := c.cmd("RCPT TO:<c@example.com>")
	ref := refOf(t, got)
	if want := "452 4.5.3 Too many recipients, at most 2 per message (ref " + ref + ")"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	c.must("DATA", 354)
	c.send(message(repEmail, "x") + ".\r\n")
	if done := c.expect(250); refOf(t, done) != ref {
		t.Errorf("reference changed within the transaction: %q then %q", got, done)
	}
	rcpts := e.fwd.got()[0].env.Rcpts
	if len(rcpts) != 2 || rcpts[0].Addr != "a@example.com" || rcpts[1].Addr != "b@example.com" {
		t.Errorf("recipients %+v", rcpts)
	}
}

func TestRecipientSyntax(t *testing.T) {
	e := testServer(t)
	c := e.login(t)
	c.must("MAIL FROM:<rep@acme.fr>", 250)
	for rcpt, want := range map[string]string{
		"<a@exa_mple.com>":   "501 5.1.3 <a@exa_mple.com>: bad address syntax (ref ",
		"<a@-bad.com>":       "501 5.1.3",
		"<a@b..com>":         "501 5.1.3",
		"<josé@example.com>": "553 5.6.7 <josé@example.com>: non-ASCII address needs SMTPUTF8 (ref ",
		"<a@[192.0.2.1]>":    "250 ",
	} {
		if got := c.cmd("RCPT TO:" + rcpt); !strings.HasPrefix(got, want) {
			t.Errorf("RCPT TO:%s: got %q, want %q", rcpt, got, want)
		}
	}
}

// UTF-8 addresses pass with SMTPUTF8, and BODY, SMTPUTF8 and the DSN
// parameters reach the forwarder.
func TestParametersPassThrough(t *testing.T) {
	e := testServer(t)
	e.users.add(t, "rené@acme.fr", "pw", "rené@acme.fr")
	c := goClient(t, e.addr(0))
	if err := c.Auth(saslPlain("rené@acme.fr", "pw")); err != nil {
		t.Fatal(err)
	}
	mopts := &smtp.MailOptions{Body: smtp.Body8BitMIME, UTF8: true, Return: smtp.DSNReturnHeaders, EnvelopeID: "env-42"}
	if err := c.Mail("rené@acme.fr", mopts); err != nil {
		t.Fatal(err)
	}
	ropts := &smtp.RcptOptions{Notify: []smtp.DSNNotify{smtp.DSNNotifyFailure, smtp.DSNNotifyDelayed},
		OriginalRecipientType: smtp.DSNAddressTypeUTF8, OriginalRecipient: "josé@example.com"}
	if err := c.Rcpt("josé@example.com", ropts); err != nil {
		t.Fatal(err)
	}
	sendData(t, c, "From: René <rené@acme.fr>\r\nSubject: été\r\n\r\nÇa va ?\r\n")
	env := e.fwd.got()[0].env
	mo := env.MailOpts
	if mo.Body != smtp.Body8BitMIME || !mo.UTF8 || mo.Return != smtp.DSNReturnHeaders || mo.EnvelopeID != "env-42" || mo.Auth != nil {
		t.Errorf("mail options %+v", mo)
	}
	r := env.Rcpts[0]
	if r.Addr != "josé@example.com" || !slices.Equal(r.Opts.Notify, ropts.Notify) || r.Opts.OriginalRecipient != "josé@example.com" {
		t.Errorf("recipient %+v", r)
	}
}

func sendData(t *testing.T, c *smtp.Client, msg string) {
	t.Helper()
	w, err := c.Data()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(w, msg); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestLineTooLong(t *testing.T) {
	e := testServer(t, func(o *Options) { o.MaxLineLength = 100 })
	c := e.login(t)
	startData(t, c, "a@example.com")
	c.send("From: rep@acme.fr\r\n\r\n" + strings.Repeat("x", 150) + "\r\n.\r\n")
	got := c.reply()
	if !strings.HasPrefix(got, "500 5.5.0 Line too long, limit 100 bytes (RFC 5321 section 4.5.3.1.6) (ref ") {
		t.Errorf("got %q", got)
	}
	if len(e.fwd.got()) != 0 {
		t.Error("forwarded")
	}
}

func TestRsetClearsTransaction(t *testing.T) {
	e := testServer(t)
	c := e.login(t)
	c.must("MAIL FROM:<rep@acme.fr>", 250)
	c.must("RCPT TO:<old@example.com>", 250)
	c.must("RSET", 250)
	if got := c.cmd("DATA"); !strings.HasPrefix(got, "502 5.5.1") {
		t.Errorf("DATA after RSET: %q", got)
	}
	startData(t, c, "new@example.com")
	c.send(message(repEmail, "x") + ".\r\n")
	c.expect(250)
	if rcpts := e.fwd.got()[0].env.Rcpts; len(rcpts) != 1 || rcpts[0].Addr != "new@example.com" {
		t.Errorf("recipients %+v", rcpts)
	}
	if !strings.Contains(e.logs.String(), "outcome=aborted") {
		t.Error("aborted transaction not logged")
	}
}

func TestForwardOutcomes(t *testing.T) {
	tests := []struct {
		name  string
		setup func(f *fakeForwarder)
		want  string // reply before " (ref "
	}{
		{"all delivered", func(*fakeForwarder) {}, "250 2.0.0 Delivered to 2 recipient(s)"},
		{"already delivered is said", func(f *fakeForwarder) { f.already["a@example.com"] = true },
			"250 2.0.0 Delivered to 1 recipient(s); already delivered to 1 by an earlier attempt, not sent again"},
		{"nothing sent again", func(f *fakeForwarder) { f.already["a@example.com"], f.already["b@example.com"] = true, true },
			"250 2.0.0 Already delivered to 2 recipient(s) by an earlier attempt, not sent again"},
		{"temporary", func(f *fakeForwarder) { f.failRcpt("b@example.com", true) },
			"451 4.4.1 Upstream: upstream unreachable; delivered to 1 of 2, retry later"},
		{"permanent for one", func(f *fakeForwarder) { f.failRcpt("b@example.com", false) },
			"550 5.1.1 Refused by upstream for <b@example.com>: no such user here; delivered to 1 of 2"},
		{"temporary wins over permanent", func(f *fakeForwarder) {
			f.failRcpt("a@example.com", false)
			f.failRcpt("b@example.com", true)
		}, "451 4.4.1 Upstream: upstream unreachable; delivered to 0 of 2, retry later"},
		{"plain error is temporary", func(f *fakeForwarder) { f.fail["a@example.com"] = errors.New("boom") },
			"451 4.4.0 Upstream: upstream failure; delivered to 1 of 2, retry later"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := testServer(t)
			tt.setup(e.fwd)
			c := e.login(t)
			startData(t, c, "a@example.com", "b@example.com")
			c.send(message(repEmail, "x") + ".\r\n")
			got := c.reply()
			if want := tt.want + " (ref " + refOf(t, got) + ")"; got != want {
				t.Errorf("got %q, want %q", got, want)
			}
		})
	}
}

func TestSummarize(t *testing.T) {
	rcpts := []upstream.Rcpt{{Addr: "a@x"}, {Addr: "b@x"}, {Addr: "c@x"}}
	v := summarize(rcpts, []upstream.Result{{Rcpt: "a@x"}}) // forwarder returned too few
	if v.delivered != 1 || v.temp == nil || v.temp.addr != "b@x" {
		t.Errorf("verdict %+v", v)
	}
	perm := smtpreply.New(smtpreply.Status{Code: 250}, smtpreply.UpstreamPermanent, "odd", nil) // not a 5xx: falls back to 554 5.0.0
	v = summarize(rcpts[:1], []upstream.Result{{Err: perm}})
	se := toSMTP(v.err(), "", discardLog())
	if se.Code != 554 || se.EnhancedCode != (smtp.EnhancedCode{5, 0, 0}) {
		t.Errorf("reply %+v", se)
	}
	many := make([]upstream.Rcpt, 8)
	res := make([]upstream.Result, 8)
	for i := range many {
		many[i].Addr = string(rune('a'+i)) + "@x"
		res[i].Err = smtpreply.New(smtpreply.Status{Code: 550, Enhanced: smtp.EnhancedCode{5, 1, 1}}, smtpreply.UpstreamPermanent, "unknown\r\n550 injected", nil)
	}
	se = toSMTP(summarize(many, res).err(), "", discardLog())
	if strings.ContainsAny(se.Message, "\r\n") || !strings.Contains(se.Message, "<e@x>, and 3 more") {
		t.Errorf("message %q", se.Message)
	}
}

func TestReplyMapsPlainErrors(t *testing.T) {
	se := toSMTP(errors.New("disk on fire"), "ABCDEFGH", discardLog())
	if se.Code != 451 || se.EnhancedCode != (smtp.EnhancedCode{4, 3, 0}) || se.Message != "Local error, try again later (ref ABCDEFGH)" {
		t.Errorf("got %+v", se)
	}
}

func TestRef(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		r := newRef()
		if len(r) != 8 || strings.Trim(r, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") != "" {
			t.Fatalf("bad ref %q", r)
		}
		seen[r] = true
	}
	if len(seen) < 999 {
		t.Errorf("only %d distinct refs of 1000", len(seen))
	}
}

// CHUNKING (RFC 3030), which go-smtp always offers, goes through the same
// checks: a bare LF inside a BDAT chunk is refused too.
func TestBDAT(t *testing.T) {
	e := testServer(t)
	c := e.login(t)
	c.must("MAIL FROM:<rep@acme.fr>", 250)
	c.must("RCPT TO:<a@example.com>", 250)
	msg := message(repEmail, "chunked")
	half := len(msg) / 2
	c.send(fmt.Sprintf("BDAT %d\r\n%s", half, msg[:half]))
	c.expect(250)
	c.send(fmt.Sprintf("BDAT %d LAST\r\n%s", len(msg)-half, msg[half:]))
	if got := c.reply(); !strings.HasPrefix(got, "250 2.0.0 Delivered to 1 recipient(s) (ref ") {
		t.Fatalf("got %q", got)
	}
	c.must("MAIL FROM:<rep@acme.fr>", 250)
	c.must("RCPT TO:<b@example.com>", 250)
	bad := "From: rep@acme.fr\r\n\r\nx\n.\n"
	c.send(fmt.Sprintf("BDAT %d LAST\r\n%s", len(bad), bad))
	if got := c.reply(); !strings.HasPrefix(got, "550 5.6.11 ") {
		t.Fatalf("got %q", got)
	}
	if calls := e.fwd.got(); len(calls) != 1 || calls[0].body != msg {
		t.Fatalf("forwarded %+v", calls)
	}
}

// RFC 6152 §3: 8BITMIME data holds no NUL. A message with one is refused
// whole, even in a part the gateway would pass through untouched.
func TestNULRefused(t *testing.T) {
	e := testServer(t)
	c := e.login(t)
	c.must("MAIL FROM:<rep@acme.fr> BODY=8BITMIME", 250)
	c.must("RCPT TO:<a@example.com>", 250)
	c.must("DATA", 354)
	c.send("From: rep@acme.fr\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n" +
		"Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: 8bit\r\n\r\nab\x00cd\r\n--b--\r\n.\r\n")
	got := c.reply()
	if want := "550 5.6.0 Message contains NUL bytes (RFC 6152 / RFC 5322) (ref "; !strings.HasPrefix(got, want) {
		t.Errorf("got %q, want %q…", got, want)
	}
	if calls := e.fwd.got(); len(calls) != 0 {
		t.Errorf("forwarded %d message(s) holding a NUL", len(calls))
	}
	if !strings.Contains(e.logs.String(), "reason=nul-byte") {
		t.Errorf("refusal not logged:\n%s", e.logs.String())
	}
	c.must("NOOP", 250) // the session goes on
}
