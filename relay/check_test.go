package relay

import (
	"bytes"
	"context"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dncgate/dncgate/caps"
	"github.com/dncgate/dncgate/country"
	"github.com/dncgate/dncgate/smtpreply"
	"github.com/dncgate/dncgate/suppression"
	"github.com/emersion/go-smtp"
)

// tableCheck answers from a table by address; others are allowed in
// country "FR". It stands for the decision, which package suppression
// tests against both stores; here only the SMTP side is under test.
type tableCheck struct {
	mu      sync.Mutex
	answers map[string]suppression.Verdict
	fail    map[string]error
	asked   []string
}

func newTableCheck() *tableCheck {
	return &tableCheck{answers: map[string]suppression.Verdict{}, fail: map[string]error{}}
}

func (c *tableCheck) Decide(_ context.Context, sender, rcpt string, _ time.Time) (suppression.Verdict, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.asked = append(c.asked, sender+">"+rcpt)
	if err := c.fail[rcpt]; err != nil {
		return suppression.Verdict{}, err
	}
	if v, ok := c.answers[rcpt]; ok {
		return v, nil
	}
	return suppression.Verdict{Outcome: suppression.Allowed, Code: suppression.CodeAllowed, Country: "FR"}, nil
}

var (
	onBEList = suppression.Verdict{Outcome: suppression.Refused, Code: "list:be-dncm",
		Text: "on the be-dncm list (phone match)", List: "be-dncm", Version: "v7", KeyKind: "phone", Country: "BE"}
	staleBE = suppression.Verdict{Outcome: suppression.TempFailed, Code: "stale:be-dncm",
		Text: "list be-dncm is 7 days old (max 5); an admin must import a fresh copy"}
	optedOut = suppression.Verdict{Outcome: suppression.Refused, Code: suppression.CodeOptOut,
		Text: "the recipient opted out of the company's mail; do not write again"}
)

func withCheck(c RecipientCheck) option { return func(o *Options) { o.Check = c } }

func withMode(m RefusalMode) option {
	return func(o *Options) {
		for i := range o.Listeners {
			o.Listeners[i].OnRefusal = m
		}
	}
}

func TestRejectModeReplies(t *testing.T) {
	chk := newTableCheck()
	chk.answers["jan@firma.be"] = onBEList
	chk.answers["piet@firma.be"] = staleBE
	chk.answers["bad@x"] = suppression.Verdict{Outcome: suppression.Refused, Code: suppression.CodeAddress, Text: "cannot be checked: no dot in the domain"}
	chk.fail["down@firma.fr"] = errors.New("connection refused")
	e := testServer(t, withCheck(chk), withMode(Reject))
	c := e.login(t)
	c.must("MAIL FROM:<rep@acme.fr>", 250)
	for rcpt, want := range map[string]string{
		"jan@firma.be":  "550 5.7.1 <jan@firma.be>: on the be-dncm list (phone match) [list:be-dncm] (ref ",
		"piet@firma.be": "451 4.7.1 <piet@firma.be>: list be-dncm is 7 days old (max 5); an admin must import a fresh copy [stale:be-dncm] (ref ",
		"bad@x":         "550 5.1.3 <bad@x>: cannot be checked: no dot in the domain [address] (ref ",
		"down@firma.fr": "451 4.3.0 Recipient check unavailable, try again later (ref ",
	} {
		if got := c.cmd("RCPT TO:<" + rcpt + ">"); !strings.HasPrefix(got, want) {
			t.Errorf("RCPT %s:\n got %q\nwant %q…", rcpt, got, want)
		}
	}
	c.must("RCPT TO:<ok@firma.fr>", 250)
	c.must("DATA", 354)
	c.send(message(repEmail, "reject mode") + ".\r\n")
	c.expect(250)
	calls := e.fwd.got()
	if len(calls) != 1 || len(calls[0].env.Rcpts) != 1 || calls[0].env.Rcpts[0].Addr != "ok@firma.fr" {
		t.Fatalf("forwarded %+v, want only ok@firma.fr", calls)
	}
	log := e.logs.String()
	for _, frag := range []string{"rcpt=j***@firma.be", "list=be-dncm", "version=v7", "key_kind=phone", "code=list:be-dncm"} {
		if !strings.Contains(log, frag) {
			t.Errorf("log lacks %q:\n%s", frag, log)
		}
	}
}

// TestDropAndNotify: the refused recipient is accepted at RCPT, left out of
// the delivery, and reported to the rep in a multipart/report DSN.
func TestDropAndNotify(t *testing.T) {
	chk := newTableCheck()
	chk.answers["jan@firma.be"] = onBEList
	chk.answers["gone@firma.fr"] = optedOut
	capper := newFakeCapper()
	capper.refuse["busy@firma.fr"] = &caps.Refusal{Cap: "recipient-30d", Count: 3, Limit: 3,
		Window: 720 * time.Hour, NextSlot: nextSlot}
	e := testServer(t, withCheck(chk), withMode(DropAndNotify), withCaps(capper))
	c := e.login(t)
	c.must("MAIL FROM:<rep@acme.fr>", 250)
	for _, r := range []string{"ok@firma.fr", "jan@firma.be", "gone@firma.fr", "busy@firma.fr"} {
		c.must("RCPT TO:<"+r+">", 250)
	}
	c.must("DATA", 354)
	c.send(message(repEmail, "drop and notify") + ".\r\n")
	got := c.expect(250)
	ref := refOf(t, got)
	if !strings.Contains(got, "Delivered to 1 recipient(s)") {
		t.Errorf("DATA reply %q", got)
	}
	calls := e.fwd.got()
	if len(calls) != 2 {
		t.Fatalf("%d forward calls, want the message and the report", len(calls))
	}
	if rc := calls[0].env.Rcpts; len(rc) != 1 || rc[0].Addr != "ok@firma.fr" {
		t.Fatalf("message forwarded to %+v", rc)
	}
	rep := calls[1]
	if rep.env.From != "" || len(rep.env.Rcpts) != 1 || rep.env.Rcpts[0].Addr != repEmail {
		t.Fatalf("report envelope %+v: want null sender to the rep", rep.env)
	}
	statuses := readReport(t, rep.body, ref)
	want := map[string]string{"jan@firma.be": "5.7.1", "gone@firma.fr": "5.7.1", "busy@firma.fr": "5.7.1"}
	if len(statuses) != len(want) {
		t.Fatalf("report names %v, want %v", statuses, want)
	}
	for r, st := range want {
		if statuses[r] != st {
			t.Errorf("report: %s status %q, want %q", r, statuses[r], st)
		}
	}
	// The cap slot of the allowed recipient was committed; the dropped
	// ones never took one.
	wantCalls(t, capper, "reserve ok@firma.fr", "reserve busy@firma.fr", "commit ok@firma.fr")
	if !slices.Contains(capper.reps, repEmail+"|FR|"+ref) {
		t.Errorf("caps reserved with %q: want the checked country FR", capper.reps)
	}
}

// readReport parses a left-out report as a mail client would and returns
// the per-recipient statuses of its message/delivery-status part.
func readReport(t *testing.T, body, ref string) map[string]string {
	t.Helper()
	m, err := mail.ReadMessage(strings.NewReader(body))
	if err != nil {
		t.Fatalf("report does not parse: %v", err)
	}
	if m.Header.Get("Auto-Submitted") != "auto-replied" || !strings.Contains(m.Header.Get("Subject"), ref) {
		t.Errorf("report header %v", m.Header)
	}
	mt, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/report" || params["report-type"] != "delivery-status" {
		t.Fatalf("report content type %q (%v)", m.Header.Get("Content-Type"), err)
	}
	mr := multipart.NewReader(m.Body, params["boundary"])
	var types []string
	statuses := map[string]string{}
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(p)
		ct := p.Header.Get("Content-Type")
		types = append(types, strings.Split(ct, ";")[0])
		switch {
		case strings.HasPrefix(ct, "text/plain") && !bytes.Contains(b, []byte("be-dncm")):
			t.Errorf("readable part does not give the reason:\n%s", b)
		case ct == "message/delivery-status":
			readStatuses(t, b, statuses)
		}
	}
	if !slices.Equal(types, []string{"text/plain", "message/delivery-status", "text/rfc822-headers"}) {
		t.Errorf("report parts %v", types)
	}
	return statuses
}

// readStatuses reads the per-recipient groups of a delivery-status body
// (RFC 3464 §2.1: header-like groups separated by blank lines).
func readStatuses(t *testing.T, b []byte, out map[string]string) {
	groups := strings.Split(strings.ReplaceAll(string(b), "\r\n", "\n"), "\n\n")
	if !strings.Contains(groups[0], "Reporting-MTA: dns; relay.test") {
		t.Errorf("per-message group %q", groups[0])
	}
	for _, g := range groups[1:] {
		m, err := mail.ReadMessage(strings.NewReader(strings.TrimSpace(g) + "\n\n"))
		if err != nil {
			t.Fatalf("recipient group %q: %v", g, err)
		}
		rcpt := strings.TrimPrefix(m.Header.Get("Final-Recipient"), "rfc822; ")
		if m.Header.Get("Action") != "failed" || !strings.HasPrefix(m.Header.Get("Diagnostic-Code"), "smtp; 550 5.7.1 <"+rcpt+">") {
			t.Errorf("recipient group %q", g)
		}
		if !smtpreply.Reason(m.Header.Get("X-Dncgate-Reason")).Known() {
			t.Errorf("recipient group %q: no known reason", g)
		}
		out[rcpt] = m.Header.Get("Status")
	}
}

// TestDropAndNotifyEveryoneRefused: with nobody left, the message is
// refused with each reason, and nothing is sent.
func TestDropAndNotifyEveryoneRefused(t *testing.T) {
	chk := newTableCheck()
	chk.answers["jan@firma.be"] = onBEList
	chk.answers["gone@firma.fr"] = optedOut
	e := testServer(t, withCheck(chk), withMode(DropAndNotify))
	c := e.login(t)
	startData(t, c, "jan@firma.be", "gone@firma.fr")
	c.send(message(repEmail, "nobody") + ".\r\n")
	got := c.expect(550)
	for _, frag := range []string{"550 5.7.1 No recipient may be written to:", "<jan@firma.be>: on the be-dncm list", "<gone@firma.fr>: the recipient opted out"} {
		if !strings.Contains(got, frag) {
			t.Errorf("reply %q lacks %q", got, frag)
		}
	}
	if n := len(e.fwd.got()); n != 0 {
		t.Fatalf("%d forward calls for a message with no allowed recipient", n)
	}
}

// TestDropAndNotifyKeepsTemporaryAtRcpt: a stale list or a store failure
// is answered at RCPT even in drop-and-notify mode: leaving the recipient
// out would lose a message that may go later.
func TestDropAndNotifyKeepsTemporaryAtRcpt(t *testing.T) {
	chk := newTableCheck()
	chk.answers["piet@firma.be"] = staleBE
	chk.fail["down@firma.fr"] = errors.New("timeout")
	e := testServer(t, withCheck(chk), withMode(DropAndNotify))
	c := e.login(t)
	c.must("MAIL FROM:<rep@acme.fr>", 250)
	c.must("RCPT TO:<piet@firma.be>", 451)
	c.must("RCPT TO:<down@firma.fr>", 451)
}

// TestNoReportWhileRetrying: when the upstream fails for now, the client
// sends again; the report waits for the attempt that settles the message.
func TestNoReportWhileRetrying(t *testing.T) {
	chk := newTableCheck()
	chk.answers["jan@firma.be"] = onBEList
	e := testServer(t, withCheck(chk), withMode(DropAndNotify))
	e.fwd.failRcpt("ok@firma.fr", true)
	c := e.login(t)
	startData(t, c, "ok@firma.fr", "jan@firma.be")
	c.send(message(repEmail, "retry") + ".\r\n")
	c.expect(451)
	if n := len(e.fwd.got()); n != 1 {
		t.Fatalf("%d forward calls, want the message only", n)
	}
}

// recordingStamper records the country each copy was made for.
type recordingStamper struct {
	mu        sync.Mutex
	countries map[string]country.Code
	refuse    error
}

func (s *recordingStamper) Prepare(body []byte, rep string) (Stamped, error) {
	if s.refuse != nil {
		return nil, s.refuse
	}
	return s, nil
}

func (s *recordingStamper) MessageID() string { return "<added@relay.test>" }

func (s *recordingStamper) For(rcpt string, cc country.Code, _ string) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.countries[rcpt] = cc
	return []byte("X-Stamped: " + cc.String() + "\r\n"), nil
}

// TestStamperGetsCheckedCountry: each copy is made for the country the
// check found, and a refusal to prepare refuses the message.
func TestStamperGetsCheckedCountry(t *testing.T) {
	chk := newTableCheck()
	chk.answers["jan@firma.be"] = suppression.Verdict{Outcome: suppression.Allowed, Code: suppression.CodeAllowed, Country: "BE"}
	st := &recordingStamper{countries: map[string]country.Code{}}
	e := testServer(t, withCheck(chk), func(o *Options) { o.Stamper = st })
	c := e.login(t)
	startData(t, c, "jan@firma.be", "ok@firma.fr")
	c.send(message(repEmail, "stamped") + ".\r\n")
	c.expect(250)
	if st.countries["jan@firma.be"] != "BE" || st.countries["ok@firma.fr"] != "FR" {
		t.Errorf("stamped for %v", st.countries)
	}

	st.refuse = smtpreply.New(smtpreply.Status{Code: 554, Enhanced: smtp.EnhancedCode{5, 7, 1}}, smtpreply.Footer, "signed message may not be altered", nil)
	startData(t, c, "ok@firma.fr")
	c.send(message(repEmail, "signed") + ".\r\n")
	if got := c.expect(554); !strings.Contains(got, "554 5.7.1 signed message may not be altered") {
		t.Errorf("refused preparation: %q", got)
	}
}

// TestAddedMessageIDIsRemembered: when the Stamper gave the copies a
// Message-ID, that is the id replies will name, so it is the one kept.
func TestAddedMessageIDIsRemembered(t *testing.T) {
	sent := newFakeSent()
	st := &recordingStamper{countries: map[string]country.Code{}}
	e := testServer(t, withReplies(sent, true), func(o *Options) { o.Stamper = st })
	c := e.login(t)
	startData(t, c, "ok@firma.fr")
	c.send("From: " + repEmail + "\r\nTo: ok@firma.fr\r\nSubject: no id\r\n\r\nHello.\r\n.\r\n")
	c.expect(250)
	r := Replies{Key: []byte(testIDKey)}
	if want := r.idDigest("added@relay.test") + "|" + sentMark; !slices.Contains(sent.names(), want) {
		t.Fatalf("sent ids %q, want the added one %q", sent.names(), want)
	}
}
