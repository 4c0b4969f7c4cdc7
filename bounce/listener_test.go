package bounce_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/dncgate/dncgate/bounce"
	"github.com/dncgate/dncgate/ledger"
	"github.com/dncgate/dncgate/listmodel"
	"github.com/dncgate/dncgate/store/embedded"
	"github.com/dncgate/dncgate/unsubscribe/token"
)

const bounceDomain = "bounce.acme.example"

// reps records the bounces passed on.
type reps struct {
	mu   sync.Mutex
	got  map[string][]string
	fail bool
}

func (r *reps) ForwardBounce(_ context.Context, rep string, msg []byte) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail {
		return errors.New("upstream down")
	}
	r.got[rep] = append(r.got[rep], string(msg))
	return nil
}

// sent is the send ledger's record of the transactions, as the listener
// reads it; down makes it fail.
type sent struct {
	mu   sync.Mutex
	txs  map[string][]ledger.Decision
	down bool
}

func (l *sent) Transaction(_ context.Context, ref string) ([]ledger.Decision, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.down {
		return nil, errors.New("ledger down")
	}
	return append([]ledger.Decision(nil), l.txs[ref]...), nil
}

func (l *sent) setDown(down bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.down = down
}

type site struct {
	l     *bounce.Listener
	sent  *sent
	st    *embedded.Store
	kr    *token.Keyring
	rp    *bounce.ReturnPaths
	reps  *reps
	ev    *events
	mu    sync.Mutex
	kinds []string
}

func (s *site) observed() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.Join(s.kinds, ",")
}

func (r *reps) count(rep string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.got[rep])
}

func newSite(t *testing.T) *site {
	t.Helper()
	st, err := embedded.Open(filepath.Join(t.TempDir(), "d.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	a, ev := setup(t, st)
	k, err := token.ParseKey(1, strings.Repeat("ab", 32))
	if err != nil {
		t.Fatal(err)
	}
	kr, err := token.NewKeyring(k)
	if err != nil {
		t.Fatal(err)
	}
	s := &site{st: st, kr: kr, sent: &sent{txs: map[string][]ledger.Decision{}}, rp: &bounce.ReturnPaths{Keyring: kr, Domain: bounceDomain, Key: testKey}, reps: &reps{got: map[string][]string{}}, ev: ev}
	s.l, err = bounce.NewListener(bounce.ListenerOptions{Addr: "127.0.0.1:0", Domain: bounceDomain, Keyring: kr, Applier: a, Copies: s.sent, Now: func() time.Time { return now },
		Forward: s.reps, Observe: func(k string) { s.mu.Lock(); s.kinds = append(s.kinds, k); s.mu.Unlock() }})
	if err != nil {
		t.Fatal(err)
	}
	go s.l.Serve()
	t.Cleanup(func() { s.l.Shutdown(context.Background()) })
	return s
}

// path records rep's copy to rcpt in ref as the relay does, refused
// recipients of the transaction with it, and returns its return path.
func (s *site) path(t *testing.T, rep, rcpt, ref string) string {
	t.Helper()
	s.sent.mu.Lock()
	defer s.sent.mu.Unlock()
	s.sent.txs[ref] = append(s.sent.txs[ref],
		ledger.Decision{Ref: ref, At: now, Rep: rep, RcptDigest: ledger.RcptDigest(testKey, "refused@example.org"), Verdict: ledger.Refused},
		ledger.Decision{Ref: ref, At: now, Rep: rep, RcptDigest: ledger.RcptDigest(testKey, rcpt), Verdict: ledger.Allowed})
	rp := s.rp.For(rep, rcpt, ref, now)
	if rp == "" {
		t.Fatalf("no return path for %s", rcpt)
	}
	return rp
}

func corpus(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// send delivers body to rcpt from the null path and returns the error of
// the first command refused.
func (s *site) send(t *testing.T, rcpt, body string) error {
	t.Helper()
	c, err := smtp.Dial(s.l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Mail("", nil); err != nil {
		return err
	}
	if err := c.Rcpt(rcpt, nil); err != nil {
		return err
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write([]byte(strings.ReplaceAll(body, "\n", "\r\n"))); err != nil {
		return err
	}
	return w.Close()
}

func wantReply(t *testing.T, what string, err error, code int, enh smtp.EnhancedCode) {
	t.Helper()
	var se *smtp.SMTPError
	if !errors.As(err, &se) || se.Code != code || se.EnhancedCode != enh {
		t.Fatalf("%s: %v, want %d %v", what, err, code, enh)
	}
}

func TestListenerHardBounce(t *testing.T) {
	s := newSite(t)
	rp := s.path(t, "alice@acme.example", "Ghost@Example.net", "K3QZ7M2A")
	if !strings.HasPrefix(rp, "bounces+") || !strings.HasSuffix(rp, "@"+bounceDomain) {
		t.Fatalf("return path %q", rp)
	}
	c := claims(t, "ghost@example.net", "K3QZ7M2A")
	for i := range 2 { // the second time is a replay
		if err := s.send(t, strings.ToUpper(rp[:8])+rp[8:], corpus(t, "gmail.eml")); err != nil {
			t.Fatalf("bounce #%d: %v", i+1, err)
		}
	}
	if !on(t, s.st, listmodel.Bounced, c) {
		t.Fatal("the recipient is not on the bounced list")
	}
	if s.ev.nAudits() != 1 {
		t.Fatalf("%d audit events after a replay, want 1", s.ev.nAudits())
	}
	s.reps.mu.Lock()
	got := s.reps.got["alice@acme.example"]
	s.reps.mu.Unlock()
	if len(got) != 2 || !strings.Contains(got[0], "The email account that you tried to reach does not exist") {
		t.Fatalf("the rep has %d bounces", len(got))
	}
}

func TestListenerRefusesForgedAndForeign(t *testing.T) {
	s := newSite(t)
	rp := s.path(t, "alice@acme.example", "ghost@example.net", "K3QZ7M2A")
	at := strings.IndexByte(rp, '@')
	last := byte('a')
	if rp[at-1] == 'a' {
		last = 'b'
	}
	forged := rp[:at-1] + string(last) + rp[at:] // the last character changed
	if forged == rp {
		t.Fatal("the forged path equals the real one")
	}
	foreign := &bounce.ReturnPaths{Keyring: mustKeyring(t, "cd"), Domain: bounceDomain, Key: testKey}
	for what, rcpt := range map[string]string{
		"forged":      forged,
		"another key": foreign.For("alice@acme.example", "ghost@example.net", "K3QZ7M2A", now),
		"garbage":     "bounces+hello@" + bounceDomain,
	} {
		wantReply(t, what, s.send(t, rcpt, corpus(t, "gmail.eml")), smtpreplyRefused, smtp.EnhancedCode{5, 1, 1})
	}
	for what, rcpt := range map[string]string{
		"relay":        "someone@example.org",
		"other domain": strings.Replace(rp, bounceDomain, "example.org", 1),
		"postmaster":   "postmaster@" + bounceDomain,
		"no token":     "bounces+@" + bounceDomain,
	} {
		wantReply(t, what, s.send(t, rcpt, corpus(t, "gmail.eml")), smtpreplyRefused, smtp.EnhancedCode{5, 7, 1})
	}
	if on(t, s.st, listmodel.Bounced, claims(t, "ghost@example.net", "K3QZ7M2A")) || s.reps.count("alice@acme.example") != 0 {
		t.Fatal("a refused bounce changed something")
	}
}

func TestListenerComplaintAndMalformed(t *testing.T) {
	s := newSite(t)
	rp := s.path(t, "bob@acme.example", "angry@example.org", "ABCDEFGH")
	if err := s.send(t, rp, corpus(t, "arf-abuse.eml")); err != nil {
		t.Fatal(err)
	}
	if !on(t, s.st, listmodel.OptOut, claims(t, "angry@example.org", "ABCDEFGH")) {
		t.Fatal("a complaint did not opt the recipient out")
	}
	rp = s.path(t, "bob@acme.example", "calm@example.org", "ABCDEFGH")
	if err := s.send(t, rp, corpus(t, "malformed/report-without-status.eml")); err != nil {
		t.Fatalf("a malformed report is taken and ignored: %v", err)
	}
	c := claims(t, "calm@example.org", "ABCDEFGH")
	if on(t, s.st, listmodel.OptOut, c) || on(t, s.st, listmodel.Bounced, c) {
		t.Fatal("a malformed report changed the lists")
	}
	if s.observed() != "complaint,malformed" || s.reps.count("bob@acme.example") != 2 {
		t.Fatalf("observed %v; rep has %d", s.kinds, s.reps.count("bob@acme.example"))
	}
}

// TestListenerForwardFailureRetried: the rep could not be told, so the
// sender is asked to retry; the retry changes nothing more.
func TestListenerForwardFailureRetried(t *testing.T) {
	s := newSite(t)
	rp := s.path(t, "alice@acme.example", "ghost@example.net", "K3QZ7M2A")
	s.reps.mu.Lock()
	s.reps.fail = true
	s.reps.mu.Unlock()
	wantReply(t, "upstream down", s.send(t, rp, corpus(t, "qmail.eml")), 451, smtp.EnhancedCode{4, 3, 0})
	s.reps.mu.Lock()
	s.reps.fail = false
	s.reps.mu.Unlock()
	if err := s.send(t, rp, corpus(t, "qmail.eml")); err != nil {
		t.Fatal(err)
	}
	if s.reps.count("alice@acme.example") != 1 || s.ev.nAudits() != 1 {
		t.Fatalf("rep has %d, audits %d; want 1 and 1", s.reps.count("alice@acme.example"), s.ev.nAudits())
	}
}

const smtpreplyRefused = 550

func mustKeyring(t *testing.T, hexByte string) *token.Keyring {
	t.Helper()
	k, err := token.ParseKey(1, strings.Repeat(hexByte, 32))
	if err != nil {
		t.Fatal(err)
	}
	kr, err := token.NewKeyring(k)
	if err != nil {
		t.Fatal(err)
	}
	return kr
}

// TestReturnPathFits64: the local part is at most 64 octets (RFC 5321
// §4.5.3.1.1) however long the rep's address, the recipient or the
// reference, and the rep forwarded is the ledger's.
func TestReturnPathFits64(t *testing.T) {
	s := newSite(t)
	rep := strings.Repeat("r", 64) + "@" + strings.Repeat("sales.", 30) + "acme.example"
	rcpt := strings.Repeat("p", 64) + "@" + strings.Repeat("d", 60) + ".example.net"
	for _, ref := range []string{"AAAAAAAA", "77777777", "K3QZ7M2A"} {
		rp := s.path(t, rep, rcpt, ref)
		if local := rp[:strings.LastIndexByte(rp, '@')]; len(local) > 64 {
			t.Fatalf("local part %q is %d octets", local, len(local))
		}
		if err := s.send(t, rp, corpus(t, "gmail.eml")); err != nil {
			t.Fatal(err)
		}
	}
	if n := s.reps.count(rep); n != 3 {
		t.Fatalf("the rep has %d bounces, want 3", n)
	}
}

// TestListenerLedgerDown: a return path whose copy the ledger cannot tell
// is answered 451 and changes nothing; the retry, once it answers, is
// applied once.
func TestListenerLedgerDown(t *testing.T) {
	s := newSite(t)
	rp := s.path(t, "alice@acme.example", "ghost@example.net", "K3QZ7M2A")
	s.sent.setDown(true)
	wantReply(t, "ledger down", s.send(t, rp, corpus(t, "gmail.eml")), 451, smtp.EnhancedCode{4, 3, 0})
	c := claims(t, "ghost@example.net", "K3QZ7M2A")
	if on(t, s.st, listmodel.Bounced, c) || s.reps.count("alice@acme.example") != 0 || s.ev.nAudits() != 0 {
		t.Fatal("a bounce answered 451 changed something")
	}
	s.sent.setDown(false)
	if err := s.send(t, rp, corpus(t, "gmail.eml")); err != nil {
		t.Fatal(err)
	}
	if !on(t, s.st, listmodel.Bounced, c) || s.reps.count("alice@acme.example") != 1 || s.ev.nAudits() != 1 {
		t.Fatal("the retry was not applied once")
	}
}

// TestListenerCopyNotInLedger: an authentic return path the ledger holds
// no copy of is retried while its record may still be in the spool, and
// refused once it is older than that (expired or erased).
func TestListenerCopyNotInLedger(t *testing.T) {
	s := newSite(t)
	recent := s.rp.For("", "ghost@example.net", "K3QZ7M2A", now)
	wantReply(t, "recent", s.send(t, recent, corpus(t, "gmail.eml")), 451, smtp.EnhancedCode{4, 3, 0})
	old := s.rp.For("", "ghost@example.net", "K3QZ7M2A", now.AddDate(0, 0, -30))
	wantReply(t, "old", s.send(t, old, corpus(t, "gmail.eml")), smtpreplyRefused, smtp.EnhancedCode{5, 1, 1})
	// The transaction is there, but not this recipient, or not that day.
	s.path(t, "alice@acme.example", "someone@example.net", "K3QZ7M2A")
	other := s.rp.For("", "ghost@example.net", "K3QZ7M2A", now.AddDate(0, 0, -30))
	wantReply(t, "other recipient", s.send(t, other, corpus(t, "gmail.eml")), smtpreplyRefused, smtp.EnhancedCode{5, 1, 1})
	otherDay := s.rp.For("", "someone@example.net", "K3QZ7M2A", now.AddDate(0, 0, -30))
	wantReply(t, "other day", s.send(t, otherDay, corpus(t, "gmail.eml")), smtpreplyRefused, smtp.EnhancedCode{5, 1, 1})
	if s.reps.count("alice@acme.example") != 0 || s.ev.nAudits() != 0 {
		t.Fatal("a refused bounce changed something")
	}
}

// olderToken was sealed once, in the format return paths had before they
// fitted 64 octets, with the site's key: the copy of alice@acme.example to
// ghost@example.net in K3QZ7M2A. Its bounce is still read, without the
// ledger.
const olderToken = "aea36vkqtlip37vvpkyican242j2txu7gozvtg3lyzflmhqkymvic62l6mehi5ety7otfhz2apqobtk4e4an7mo3ukb33cxzqt4wp2m7bur7tnxupdm42"

func TestListenerReadsOlderReturnPaths(t *testing.T) {
	s := newSite(t)
	s.sent.setDown(true)
	if err := s.send(t, bounce.LocalPrefix+olderToken+"@"+bounceDomain, corpus(t, "gmail.eml")); err != nil {
		t.Fatal(err)
	}
	if !on(t, s.st, listmodel.Bounced, claims(t, "ghost@example.net", "K3QZ7M2A")) || s.reps.count("alice@acme.example") != 1 {
		t.Fatal("the bounce to an older return path was not applied")
	}
	altered := olderToken[:10] + "a" + olderToken[11:]
	if altered == olderToken {
		altered = olderToken[:10] + "b" + olderToken[11:]
	}
	wantReply(t, "altered", s.send(t, bounce.LocalPrefix+altered+"@"+bounceDomain, corpus(t, "gmail.eml")), smtpreplyRefused, smtp.EnhancedCode{5, 1, 1})
}
