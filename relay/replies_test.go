package relay

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeSent keeps sent-id marks in memory and fails lookups when told to.
type fakeSent struct {
	mu    sync.Mutex
	marks map[string]time.Duration // name -> ttl
	fail  error
}

func newFakeSent() *fakeSent { return &fakeSent{marks: map[string]time.Duration{}} }

func (f *fakeSent) Delivered(_ context.Context, msg string) (map[string]bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return nil, f.fail
	}
	if _, ok := f.marks[msg+"|"+sentMark]; ok {
		return map[string]bool{sentMark: true}, nil
	}
	return nil, nil
}

func (f *fakeSent) MarkDelivered(_ context.Context, msg, rcpt string, ttl time.Duration) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.marks[msg+"|"+rcpt] = ttl
	return nil
}

func (f *fakeSent) ttl(name string) time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.marks[name]
}

func (f *fakeSent) names() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var ns []string
	for n := range f.marks {
		ns = append(ns, n)
	}
	return ns
}

const (
	testIDKey = "a test digest key for message ids"
	keepIDs   = 720 * time.Hour
)

func withReplies(sent *fakeSent, exempt bool) option {
	return func(o *Options) {
		o.Replies = Replies{Sent: sent, Key: []byte(testIDKey), Keep: keepIDs, Exempt: exempt}
	}
}

// threaded is a message from the rep with its own id and, when inReplyTo
// is not empty, an In-Reply-To field.
func threaded(id, inReplyTo string) string {
	h := "From: " + repEmail + "\r\nTo: p@prospect.test\r\nSubject: hello\r\nMessage-ID: <" + id + ">\r\n"
	if inReplyTo != "" {
		h += "In-Reply-To: " + inReplyTo + "\r\n"
	}
	return h + "\r\nHello.\r\n.\r\n"
}

// sendThreaded sends one threaded message to rcpt and wants 250.
func sendThreaded(t *testing.T, c *rawClient, rcpt, id, inReplyTo string) {
	t.Helper()
	startData(t, c, rcpt)
	c.send(threaded(id, inReplyTo))
	c.expect(250)
}

func TestReplyToProspectIsExempt(t *testing.T) {
	f, sent := newFakeCapper(), newFakeSent()
	e := testServer(t, withCaps(f), withReplies(sent, true))
	c := e.login(t)
	// The prospect wrote first: the gateway never sent <theirs@prospect.test>.
	sendThreaded(t, c, "p@prospect.test", "answer@acme.fr", "<theirs@prospect.test>")
	wantCalls(t, f, "reserve p@prospect.test", "release p@prospect.test")
	if !strings.Contains(e.logs.String(), "caps not counted") {
		t.Errorf("no log line for the exempt reply:\n%s", e.logs.String())
	}
	// The answer itself is recorded, for as long as the longest window.
	want := Replies{Key: []byte(testIDKey)}.idDigest("answer@acme.fr") + "|" + sentMark
	if got := sent.names(); !slices.Equal(got, []string{want}) || sent.ttl(want) != keepIDs {
		t.Fatalf("recorded %q (ttl %v), want %q for %v", got, sent.ttl(want), want, keepIDs)
	}
}

func TestReplyToOurOwnMailCounts(t *testing.T) {
	f, sent := newFakeCapper(), newFakeSent()
	e := testServer(t, withCaps(f), withReplies(sent, true))
	c := e.login(t)
	sendThreaded(t, c, "p@prospect.test", "first@acme.fr", "")
	// A follow-up to the gateway's own mail is prospecting: it counts,
	// even when it also names an id the prospect wrote.
	sendThreaded(t, c, "p@prospect.test", "second@acme.fr", "<theirs@prospect.test>\r\n <first@acme.fr>")
	wantCalls(t, f, "reserve p@prospect.test", "commit p@prospect.test", "reserve p@prospect.test", "commit p@prospect.test")
}

func TestReplyExemptionCountsWhenUnsure(t *testing.T) {
	for name, tc := range map[string]struct {
		exempt    bool
		fail      error
		inReplyTo string
	}{
		"switched off":    {false, nil, "<theirs@prospect.test>"},
		"store failure":   {true, errors.New("store unreachable"), "<theirs@prospect.test>"},
		"no In-Reply-To":  {true, nil, ""},
		"no id in fields": {true, nil, "theirs@prospect.test"},
	} {
		t.Run(name, func(t *testing.T) {
			f, sent := newFakeCapper(), newFakeSent()
			sent.fail = tc.fail
			e := testServer(t, withCaps(f), withReplies(sent, tc.exempt))
			sendThreaded(t, e.login(t), "p@prospect.test", "answer@acme.fr", tc.inReplyTo)
			wantCalls(t, f, "reserve p@prospect.test", "commit p@prospect.test")
		})
	}
}

// A message the upstream refused is not recorded: a reply to it cannot
// answer mail the gateway sent.
func TestRefusedMessageNotRecorded(t *testing.T) {
	sent := newFakeSent()
	e := testServer(t, withCaps(newFakeCapper()), withReplies(sent, true))
	e.fwd.failRcpt("bad@prospect.test", false)
	c := e.login(t)
	startData(t, c, "bad@prospect.test")
	c.send(threaded("refused@acme.fr", ""))
	c.expect(550)
	if got := sent.names(); len(got) != 0 {
		t.Fatalf("recorded %q for a refused message", got)
	}
}

func TestAngleIDs(t *testing.T) {
	for _, tc := range []struct {
		in   string
		max  int
		want []string
	}{
		{"<a@b>", 8, []string{"a@b"}},
		{" <a@b> (comment) <c@d>", 8, []string{"a@b", "c@d"}},
		{"phrase <a@b>", 8, []string{"a@b"}},
		{"<a@b> <c@d> <e@f>", 2, []string{"a@b", "c@d"}},
		{"<> <a@b", 8, nil},
		{"a@b", 8, nil},
	} {
		if got := angleIDs(tc.in, tc.max); !slices.Equal(got, tc.want) {
			t.Errorf("angleIDs(%q, %d) = %q, want %q", tc.in, tc.max, got, tc.want)
		}
	}
}

func TestRepliesValidate(t *testing.T) {
	sent := newFakeSent()
	for _, r := range []Replies{
		{Exempt: true},
		{Sent: sent, Keep: time.Hour},
		{Sent: sent, Key: []byte("k")},
	} {
		if r.validate() == nil {
			t.Errorf("%+v accepted", r)
		}
	}
	if err := (Replies{Sent: sent, Key: []byte("k"), Keep: time.Hour, Exempt: true}).validate(); err != nil {
		t.Errorf("a full Replies refused: %v", err)
	}
}
