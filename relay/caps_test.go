package relay

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dncgate/dncgate/caps"
	"github.com/dncgate/dncgate/country"
)

// fakeCapper refuses or fails chosen recipients and records every reserve,
// commit and release as "op rcpt".
type fakeCapper struct {
	mu       sync.Mutex
	calls    []string
	reps     []string
	refuse   map[string]*caps.Refusal
	fail     map[string]error
	noTicket map[string]bool // no cap applies: nil ticket
}

func newFakeCapper() *fakeCapper {
	return &fakeCapper{refuse: map[string]*caps.Refusal{}, fail: map[string]error{}, noTicket: map[string]bool{}}
}

func (f *fakeCapper) Reserve(_ context.Context, rep, rcpt string, cc country.Code, msgID string, _ time.Time) (CapTicket, *caps.Refusal, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, "reserve "+rcpt)
	f.reps = append(f.reps, rep+"|"+cc.String()+"|"+msgID)
	switch {
	case f.fail[rcpt] != nil:
		return nil, nil, f.fail[rcpt]
	case f.refuse[rcpt] != nil:
		return nil, f.refuse[rcpt], nil
	case f.noTicket[rcpt]:
		return nil, nil, nil
	}
	return &fakeTicket{f: f, rcpt: rcpt}, nil, nil
}

func (f *fakeCapper) record(s string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, s)
}

func (f *fakeCapper) got() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.calls)
}

type fakeTicket struct {
	f    *fakeCapper
	rcpt string
}

func (t *fakeTicket) Commit(context.Context, time.Time) error {
	t.f.record("commit " + t.rcpt)
	return nil
}

func (t *fakeTicket) Release(context.Context) error {
	t.f.record("release " + t.rcpt)
	return nil
}

func withCaps(c Capper) option { return func(o *Options) { o.Caps = c } }

func wantCalls(t *testing.T, f *fakeCapper, want ...string) {
	t.Helper()
	if got := f.got(); !slices.Equal(got, want) {
		t.Fatalf("cap calls:\n got %q\nwant %q", got, want)
	}
}

var nextSlot = time.Date(2026, 12, 3, 14, 9, 30, 0, time.UTC)

func TestCapRefusalReplies(t *testing.T) {
	for _, tc := range []struct {
		name      string
		temporary bool
		prefix    string
	}{
		{"reject", false, "550 5.7.1 "},
		{"tempfail", true, "451 4.7.1 "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeCapper()
			f.refuse["p@prospect.test"] = &caps.Refusal{Cap: "recipient-30d", Count: 3, Limit: 3,
				Window: 720 * time.Hour, NextSlot: nextSlot, Temporary: tc.temporary}
			e := testServer(t, withCaps(f))
			c := e.login(t)
			c.must("MAIL FROM:<rep@acme.fr>", 250)
			got := c.cmd("RCPT TO:<p@prospect.test>")
			want := tc.prefix + "<p@prospect.test>: cap recipient-30d reached (3 in 30 days); " +
				"next slot 2026-12-03 14:10 UTC (ref " + refOf(t, got) + ")"
			if got != want {
				t.Fatalf("got  %q\nwant %q", got, want)
			}
			if !strings.Contains(e.logs.String(), `reason=cap code=`) || !strings.Contains(e.logs.String(), `cause="cap recipient-30d reached"`) {
				t.Errorf("no log line naming the cap:\n%s", e.logs.String())
			}
			// The refused recipient is not in the transaction: DATA has none.
			c.must("DATA", 502)
			wantCalls(t, f, "reserve p@prospect.test")
		})
	}
}

func TestCapStoreErrorFailsClosed(t *testing.T) {
	f := newFakeCapper()
	f.fail["p@prospect.test"] = errors.New("store unreachable")
	e := testServer(t, withCaps(f))
	c := e.login(t)
	c.must("MAIL FROM:<rep@acme.fr>", 250)
	got := c.cmd("RCPT TO:<p@prospect.test>")
	if want := "451 4.3.0 Frequency caps unavailable, try again later (ref " + refOf(t, got) + ")"; got != want {
		t.Fatalf("got  %q\nwant %q", got, want)
	}
	if len(e.fwd.got()) != 0 {
		t.Fatal("forwarded without a cap check")
	}
}

// The reservation names the AUTH identity and the transaction reference,
// and a repeated RCPT reserves once.
func TestCapReserveArguments(t *testing.T) {
	f := newFakeCapper()
	e := testServer(t, withCaps(f))
	c := e.login(t)
	c.must("MAIL FROM:<Rep.Alias@Acme.FR>", 250)
	c.must("RCPT TO:<p@prospect.test>", 250)
	c.must("RCPT TO:<P@prospect.test>", 250)
	c.must("DATA", 354)
	c.send(message("Rep.Alias@Acme.FR", "args") + ".\r\n")
	ref := refOf(t, c.expect(250))
	wantCalls(t, f, "reserve p@prospect.test", "commit p@prospect.test")
	if want := []string{repEmail + "||" + ref}; !slices.Equal(f.reps, want) {
		t.Fatalf("reserved as %q, want %q", f.reps, want)
	}
}

// Only recipients the upstream accepted now are committed; one it already
// had, one it refused and one that failed for now are released.
func TestCapCommitOnlyAccepted(t *testing.T) {
	f := newFakeCapper()
	f.noTicket["free@prospect.test"] = true
	e := testServer(t, withCaps(f))
	e.fwd.already["old@prospect.test"] = true
	e.fwd.failRcpt("bad@prospect.test", false)
	e.fwd.failRcpt("later@prospect.test", true)
	c := e.login(t)
	rcpts := []string{"ok@prospect.test", "old@prospect.test", "bad@prospect.test", "later@prospect.test", "free@prospect.test"}
	startData(t, c, rcpts...)
	c.send(message(repEmail, "mixed") + ".\r\n")
	c.expect(451)
	c.must("QUIT", 221)
	var want []string
	for _, r := range rcpts {
		want = append(want, "reserve "+r)
	}
	want = append(want, "commit ok@prospect.test", "release old@prospect.test",
		"release bad@prospect.test", "release later@prospect.test")
	wantCalls(t, f, want...)
}

func TestCapReleaseOnUpstreamRefusal(t *testing.T) {
	f := newFakeCapper()
	e := testServer(t, withCaps(f))
	e.fwd.failRcpt("bad@prospect.test", false)
	c := e.login(t)
	startData(t, c, "bad@prospect.test")
	c.send(message(repEmail, "refused") + ".\r\n")
	c.expect(550)
	wantCalls(t, f, "reserve bad@prospect.test", "release bad@prospect.test")
}

func TestCapReleaseOnRSET(t *testing.T) {
	f := newFakeCapper()
	e := testServer(t, withCaps(f))
	c := e.login(t)
	c.must("MAIL FROM:<rep@acme.fr>", 250)
	c.must("RCPT TO:<a@prospect.test>", 250)
	c.must("RCPT TO:<b@prospect.test>", 250)
	c.must("RSET", 250)
	wantCalls(t, f, "reserve a@prospect.test", "reserve b@prospect.test",
		"release a@prospect.test", "release b@prospect.test")
	// A new transaction reserves afresh and commits.
	startData(t, c, "a@prospect.test")
	c.send(message(repEmail, "again") + ".\r\n")
	c.expect(250)
	wantCalls(t, f, "reserve a@prospect.test", "reserve b@prospect.test",
		"release a@prospect.test", "release b@prospect.test",
		"reserve a@prospect.test", "commit a@prospect.test")
}

func TestCapReleaseOnRefusedData(t *testing.T) {
	for name, body := range map[string]string{
		"bare LF":     "From: rep@acme.fr\r\n\r\nbare\nLF\r\n.\r\n",
		"From denied": message("boss@acme.fr", "forged") + ".\r\n",
	} {
		t.Run(name, func(t *testing.T) {
			f := newFakeCapper()
			e := testServer(t, withCaps(f))
			c := e.login(t)
			startData(t, c, "a@prospect.test")
			c.send(body)
			if got := c.reply(); !strings.HasPrefix(got, "550 ") {
				t.Fatalf("got %q, want a 550", got)
			}
			wantCalls(t, f, "reserve a@prospect.test", "release a@prospect.test")
			if len(e.fwd.got()) != 0 {
				t.Fatal("forwarded")
			}
		})
	}
}

func TestCapReleaseOnQuitWithoutData(t *testing.T) {
	f := newFakeCapper()
	e := testServer(t, withCaps(f))
	c := e.login(t)
	c.must("MAIL FROM:<rep@acme.fr>", 250)
	c.must("RCPT TO:<a@prospect.test>", 250)
	c.must("QUIT", 221)
	// go-smtp logs the session out before it closes the connection.
	if _, err := c.r.ReadLine(); err == nil {
		t.Fatal("connection still open after QUIT")
	}
	wantCalls(t, f, "reserve a@prospect.test", "release a@prospect.test")
}

func TestCheckerCapperNil(t *testing.T) {
	if CheckerCapper(nil) != nil {
		t.Fatal("CheckerCapper(nil) is not nil")
	}
}
