package relay

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dncgate/dncgate/ledger"
	"github.com/dncgate/dncgate/ledger/sqlite"
	"github.com/dncgate/dncgate/listmodel"
	"github.com/dncgate/dncgate/suppression"
)

var ledgerKey = []byte("relay-test-ledger-key")

func withLedger(r Recorder) option {
	return func(o *Options) { o.Ledger, o.LedgerKey = r, ledgerKey }
}

// openLedger is the embedded ledger in the test's directory.
func openLedger(t *testing.T) *sqlite.Ledger {
	t.Helper()
	l, err := sqlite.Open(filepath.Join(t.TempDir(), "ledger.db"), ledger.Retention{Sent: time.Hour, Refused: time.Hour, Audit: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

// allowedFR is an allowed verdict naming the lists it consulted.
var allowedFR = suppression.Verdict{Outcome: suppression.Allowed, Code: suppression.CodeAllowed, Country: "FR", CountryFrom: "tld",
	Type: suppression.Business, Rule: suppression.Rule{Country: "FR", Action: suppression.Allow},
	Consulted: []suppression.Consulted{{List: listmodel.OptOut, Version: "o3"}, {List: "company-deny", Version: "c9"}}}

// TestLedgerRecordsEveryDecision: in drop-and-notify mode the allowed
// recipient's record is durable, outcome unknown, while its copy is being
// forwarded, and reads "sent" after; the left-out one is recorded with
// the list and version that refused it; no field holds a full address.
func TestLedgerRecordsEveryDecision(t *testing.T) {
	chk := newTableCheck()
	chk.answers["ok@firma.fr"] = allowedFR
	chk.answers["jan@firma.be"] = onBEList
	l := openLedger(t)
	e := testServer(t, withCheck(chk), withMode(DropAndNotify), withLedger(l))
	entered, hold := make(chan struct{}), make(chan struct{})
	e.fwd.entered, e.fwd.hold = entered, hold
	c := e.login(t)
	c.must("MAIL FROM:<rep@acme.fr>", 250)
	c.must("RCPT TO:<ok@firma.fr>", 250)
	c.must("RCPT TO:<jan@firma.be>", 250)
	c.must("DATA", 354)
	c.send(message(repEmail, "ledger") + ".\r\n")

	<-entered // the message's Forward has begun
	ref := e.fwd.got()[0].env.Ref
	ds, err := l.Transaction(context.Background(), ref)
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != 2 {
		t.Fatalf("%d records while forwarding, want both recipients", len(ds))
	}
	for _, d := range ds {
		if d.RcptMasked == "o***@firma.fr" && d.Outcome.Kind != ledger.Unknown {
			t.Errorf("allowed record's outcome %q while forwarding, want unknown", d.Outcome.Kind)
		}
	}
	close(hold)
	go func() { <-entered }() // the left-out report
	got := c.expect(250)
	if refOf(t, got) != ref {
		t.Fatalf("DATA reply %q, want ref %s", got, ref)
	}
	e.srv.outcomes.wait() // the outcomes are written after the reply

	ds, err = l.Transaction(context.Background(), ref)
	if err != nil {
		t.Fatal(err)
	}
	byMask := map[string]ledger.Decision{}
	for _, d := range ds {
		byMask[d.RcptMasked] = d
		for _, field := range []string{d.RcptMasked, d.Outcome.Reply, d.Domain, string(d.Reason), d.Cap} {
			if strings.Contains(field, "ok@firma.fr") || strings.Contains(field, "jan@firma.be") {
				t.Errorf("record %s holds a full address: %q", d.ID, field)
			}
		}
		if d.Rep != repEmail || d.Sender != "rep@acme.fr" || d.Listener != "plain" || d.Client != "127.0.0.1" {
			t.Errorf("record %+v: rep, sender, listener or client wrong", d)
		}
	}
	ok := byMask["o***@firma.fr"]
	if ok.Verdict != ledger.Allowed || ok.Outcome.Kind != ledger.Sent || ok.Country != "FR" || ok.CountryFrom != "tld" ||
		ok.RcptType != string(suppression.Business) || ok.Rule != "FR allow" || ok.Domain != "firma.fr" {
		t.Errorf("allowed record %+v", ok)
	}
	if len(ok.Lists) != 2 || ok.Lists[0] != (ledger.ListVersion{List: listmodel.OptOut, Version: "o3"}) ||
		ok.Lists[1] != (ledger.ListVersion{List: "company-deny", Version: "c9"}) {
		t.Errorf("allowed record's lists %v, want both with their versions", ok.Lists)
	}
	if ok.RcptDigest != ledger.RcptDigest(ledgerKey, "OK@firma.fr") {
		t.Error("allowed record's digest is not the address's keyed digest")
	}
	jan := byMask["j***@firma.be"]
	if jan.Verdict != ledger.Refused || jan.Reason != "list:be-dncm" || jan.Outcome.Kind != ledger.LeftOut ||
		jan.Match != (ledger.Match{List: "be-dncm", Version: "v7", KeyKind: "phone"}) {
		t.Errorf("left-out record %+v", jan)
	}
}

// TestLedgerRejectAndUpstreamOutcomes: a recipient refused at RCPT is
// recorded as such; the upstream's refusal and temporary failure become
// the outcomes of the allowed ones.
func TestLedgerRejectAndUpstreamOutcomes(t *testing.T) {
	chk := newTableCheck()
	chk.answers["gone@firma.fr"] = optedOut
	l := openLedger(t)
	e := testServer(t, withCheck(chk), withMode(Reject), withLedger(l), func(o *Options) { o.LedgerSubject = true })
	e.fwd.failRcpt("nouser@firma.fr", false)
	e.fwd.failRcpt("later@firma.fr", true)
	c := e.login(t)
	c.must("MAIL FROM:<rep@acme.fr>", 250)
	ref := refOf(t, c.must("RCPT TO:<gone@firma.fr>", 550))
	c.must("RCPT TO:<sent@firma.fr>", 250)
	c.must("RCPT TO:<nouser@firma.fr>", 250)
	c.must("RCPT TO:<later@firma.fr>", 250)
	c.must("DATA", 354)
	c.send(message(repEmail, "=?utf-8?q?R=C3=A9sultats?= for boss@firma.fr") + ".\r\n")
	c.expect(451)
	e.srv.outcomes.wait()
	ds, err := l.Transaction(context.Background(), ref)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]ledger.OutcomeKind{"g***@firma.fr": ledger.RefusedAtRcpt, "s***@firma.fr": ledger.Sent,
		"n***@firma.fr": ledger.UpstreamRefused, "l***@firma.fr": ledger.TempFailed}
	if len(ds) != len(want) {
		t.Fatalf("%d records, want %d", len(ds), len(want))
	}
	for _, d := range ds {
		if d.Outcome.Kind != want[d.RcptMasked] {
			t.Errorf("%s: outcome %q, want %q", d.RcptMasked, d.Outcome.Kind, want[d.RcptMasked])
		}
	}
	for _, d := range ds {
		if d.RcptMasked == "n***@firma.fr" && !strings.HasPrefix(d.Outcome.Reply, "550 5.1.1 no such user") {
			t.Errorf("upstream refusal's reply %q", d.Outcome.Reply)
		}
		if want := "Résultats for b***@firma.fr"; d.Verdict == ledger.Allowed && d.Subject != want {
			t.Errorf("%s: subject %q, want %q", d.RcptMasked, d.Subject, want)
		}
	}
}

// brokenLedger refuses every write, as a full spool does.
type brokenLedger struct{}

func (brokenLedger) Record(context.Context, []ledger.Decision) error { return ledger.ErrSpoolFull }
func (brokenLedger) SetOutcome(context.Context, string, ledger.Digest, ledger.Outcome) error {
	return ledger.ErrSpoolFull
}

// TestLedgerUnwritableFailsClosed: without a record nothing is sent: the
// message gets 451 4.3.0, and a refusal that cannot be recorded is
// answered 451 too, in either mode.
func TestLedgerUnwritableFailsClosed(t *testing.T) {
	for _, mode := range []RefusalMode{Reject, DropAndNotify} {
		t.Run(mode.String(), func(t *testing.T) {
			chk := newTableCheck()
			chk.answers["gone@firma.fr"] = optedOut
			e := testServer(t, withCheck(chk), withMode(mode), withLedger(brokenLedger{}))
			c := e.login(t)
			c.must("MAIL FROM:<rep@acme.fr>", 250)
			if got := c.must("RCPT TO:<gone@firma.fr>", 451); !strings.Contains(got, "4.3.0") || !strings.Contains(got, "ledger") {
				t.Errorf("unrecorded refusal: %q", got)
			}
			c.must("RCPT TO:<ok@firma.fr>", 250)
			c.must("DATA", 354)
			c.send(message(repEmail, "no ledger") + ".\r\n")
			if got := c.expect(451); !strings.Contains(got, "4.3.0") {
				t.Errorf("DATA reply %q, want 451 4.3.0", got)
			}
			if n := len(e.fwd.got()); n != 0 {
				t.Errorf("%d forward calls without a record", n)
			}
		})
	}
}

func TestLedgerNeedsKey(t *testing.T) {
	_, err := New(Options{Listeners: []Listener{{Name: "p", Addr: "127.0.0.1:0"}}, Ledger: brokenLedger{}}, nil, nil, nil, nil)
	if err == nil || !strings.Contains(err.Error(), "LedgerKey") {
		t.Errorf("New without LedgerKey: %v", err)
	}
}

// TestLedgerRefusedAtData: the records, written from the DATA command
// on, of a message the gateway refuses once it has read it get the
// reply the client got as their outcome; nothing is forwarded.
func TestLedgerRefusedAtData(t *testing.T) {
	l := openLedger(t)
	e := testServer(t, withLedger(l))
	c := e.login(t)
	c.must("MAIL FROM:<rep@acme.fr>", 250)
	c.must("RCPT TO:<ann@firma.fr>", 250)
	c.must("DATA", 354)
	c.send(message("boss@elsewhere.example", "not mine") + ".\r\n")
	got := c.expect(550)
	ref := refOf(t, got)
	e.srv.outcomes.wait()
	ds, err := l.Transaction(context.Background(), ref)
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != 1 || ds[0].Outcome.Kind != ledger.RefusedAtRcpt || !strings.HasPrefix(got, ds[0].Outcome.Reply[:9]) {
		t.Fatalf("records %+v after %q, want one refused with the reply", ds, got)
	}
	if n := len(e.fwd.got()); n != 0 {
		t.Errorf("%d forward calls for a refused message", n)
	}
}
