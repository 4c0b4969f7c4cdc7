package upstream

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dncgate/dncgate/smtpreply"
	"github.com/dncgate/dncgate/store/embedded"
	"github.com/emersion/go-smtp"
)

// memDeliveries is an in-memory Deliveries that can be told to fail.
type memDeliveries struct {
	mu          sync.Mutex
	marks       map[string]map[string]time.Duration
	failRead    error
	failMark    error
	readCalls   int
	markedCalls int
}

func newMemDeliveries() *memDeliveries {
	return &memDeliveries{marks: map[string]map[string]time.Duration{}}
}

func (m *memDeliveries) Delivered(_ context.Context, msg string) (map[string]bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.readCalls++
	if m.failRead != nil {
		return nil, m.failRead
	}
	var out map[string]bool
	for r := range m.marks[msg] {
		if out == nil {
			out = map[string]bool{}
		}
		out[r] = true
	}
	return out, nil
}

func (m *memDeliveries) MarkDelivered(_ context.Context, msg, rcpt string, ttl time.Duration) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.markedCalls++
	if m.failMark != nil {
		return m.failMark
	}
	if m.marks[msg] == nil {
		m.marks[msg] = map[string]time.Duration{}
	}
	m.marks[msg][rcpt] = ttl
	return nil
}

// countingDeliveries counts the reads of another Deliveries.
type countingDeliveries struct {
	Deliveries
	reads int
}

func (c *countingDeliveries) Delivered(ctx context.Context, msg string) (map[string]bool, error) {
	c.reads++
	return c.Deliveries.Delivered(ctx, msg)
}

func envelope(rcpts ...string) Envelope {
	env := Envelope{From: testFrom, Ref: "T1"}
	for _, r := range rcpts {
		env.Rcpts = append(env.Rcpts, Rcpt{Addr: r})
	}
	return env
}

func newTestForwarder(t testing.TB, up *testUpstream, d Deliveries, o ForwarderOptions, log *slog.Logger) *Forwarder {
	t.Helper()
	if o.DigestKey == nil {
		o.DigestKey = []byte("test key")
	}
	return NewForwarder(newTestTarget(t, "smtp://"+up.addr, TargetOptions{}), d, o, log)
}

// wantResults checks the recipients' order and which ones failed.
func wantResults(t testing.TB, res []Result, rcpts []string, failed map[string]bool) {
	t.Helper()
	if len(res) != len(rcpts) {
		t.Fatalf("%d results for %d recipients", len(res), len(rcpts))
	}
	for i, r := range res {
		if r.Rcpt != rcpts[i] {
			t.Errorf("result %d is for %q, want %q", i, r.Rcpt, rcpts[i])
		}
		if (r.Err != nil) != failed[r.Rcpt] {
			t.Errorf("%s: err = %v, want failed=%v", r.Rcpt, r.Err, failed[r.Rcpt])
		}
	}
}

func TestForwardFanOut(t *testing.T) {
	up := startUpstream(t, nil)
	footer := func(rcpt string, body []byte) ([]byte, error) {
		return append([]byte("X-For: "+rcpt+"\r\n"), body...), nil
	}
	f := newTestForwarder(t, up, newMemDeliveries(), ForwarderOptions{Transform: footer}, nil)
	rcpts := []string{"ann@example.com", "bob@example.com", "cid@example.com"}
	body := testBody("fan out")
	wantResults(t, f.Forward(context.Background(), envelope(rcpts...), body), rcpts, nil)
	got := up.received()
	if len(got) != 3 {
		t.Fatalf("upstream got %d transactions, want 3", len(got))
	}
	for _, m := range got {
		if len(m.Rcpts) != 1 {
			t.Fatalf("transaction with %d recipients, want 1", len(m.Rcpts))
		}
		want := append([]byte("X-For: "+m.Rcpts[0]+"\r\n"), body...)
		if !bytes.Equal(m.Body, want) {
			t.Errorf("%s got body %q, want its own %q", m.Rcpts[0], m.Body, want)
		}
	}
}

func TestForwardOneRefused(t *testing.T) {
	up := startUpstream(t, nil, withScript(map[string]action{"bob@example.com": failRcpt}))
	f := newTestForwarder(t, up, newMemDeliveries(), ForwarderOptions{}, nil)
	rcpts := []string{"ann@example.com", "bob@example.com", "cid@example.com"}
	res := f.Forward(context.Background(), envelope(rcpts...), testBody("x"))
	wantResults(t, res, rcpts, map[string]bool{"bob@example.com": true})
	wantError(t, res[1].Err, 550, smtp.EnhancedCode{5, 1, 1}, false)
}

func TestForwardConnectionReuse(t *testing.T) {
	up := startUpstream(t, nil)
	f := newTestForwarder(t, up, newMemDeliveries(), ForwarderOptions{}, nil)
	for _, s := range []string{"one", "two", "three"} {
		res := f.Forward(context.Background(), envelope("ann@example.com"), testBody(s))
		wantResults(t, res, []string{"ann@example.com"}, nil)
	}
	if n := up.connCount(); n != 1 {
		t.Fatalf("upstream saw %d connections for 3 messages, want 1", n)
	}
}

// The client retries the same bytes after a partial failure: only the
// recipient that failed is sent again. The marks live in the real embedded
// store.
func TestForwardRetryAfterPartialFailure(t *testing.T) {
	up := startUpstream(t, nil, withScript(map[string]action{"cid@example.com": tempRcpt}))
	st, err := embedded.Open(filepath.Join(t.TempDir(), "dncgate.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	d := &countingDeliveries{Deliveries: st}
	f := newTestForwarder(t, up, d, ForwarderOptions{}, nil)
	rcpts := []string{"ann@example.com", "bob@example.com", "cid@example.com"}
	env, body := envelope(rcpts...), testBody("retry")

	res := f.Forward(context.Background(), env, body)
	wantResults(t, res, rcpts, map[string]bool{"cid@example.com": true})
	wantError(t, res[2].Err, 451, smtp.EnhancedCode{4, 2, 0}, true)

	up.setScript(nil)
	res = f.Forward(context.Background(), env, body)
	wantResults(t, res, rcpts, nil)
	for i, already := range []bool{true, true, false} {
		if res[i].Already != already {
			t.Errorf("%s: Already = %v, want %v", res[i].Rcpt, res[i].Already, already)
		}
	}
	for _, r := range rcpts {
		if n := up.deliveries()[r]; n != 1 {
			t.Errorf("upstream got %s %d times, want once", r, n)
		}
	}
	if d.reads != 2 {
		t.Errorf("%d Delivered calls for 2 attempts, want 2", d.reads)
	}
}

func TestForwardStoreDown(t *testing.T) {
	up := startUpstream(t, nil)
	d := newMemDeliveries()
	d.failRead = errors.New("store: connection refused")
	f := newTestForwarder(t, up, d, ForwarderOptions{}, nil)
	rcpts := []string{"ann@example.com", "bob@example.com"}
	res := f.Forward(context.Background(), envelope(rcpts...), testBody("x"))
	for _, r := range res {
		wantError(t, r.Err, smtpreply.CodeLocalError, smtpreply.Local.Enhanced, true)
	}
	if n := up.connCount(); n != 0 {
		t.Fatalf("upstream saw %d connections while the store was down, want 0", n)
	}
}

func TestForwardMarkFails(t *testing.T) {
	up := startUpstream(t, nil)
	d := newMemDeliveries()
	d.failMark = errors.New("store: read-only")
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	f := newTestForwarder(t, up, d, ForwarderOptions{}, log)
	res := f.Forward(context.Background(), envelope("ann@example.com"), testBody("x"))
	wantResults(t, res, []string{"ann@example.com"}, nil)
	if !strings.Contains(logs.String(), "level=ERROR") || !strings.Contains(logs.String(), "not recorded") {
		t.Fatalf("log = %s, want an error about the missing mark", logs.String())
	}
}

func TestForwardLogsEachOutcome(t *testing.T) {
	up := startUpstream(t, nil, withScript(map[string]action{"bob@example.com": failRcpt}))
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	f := newTestForwarder(t, up, newMemDeliveries(), ForwarderOptions{}, log)
	f.Forward(context.Background(), envelope("ann@example.com", "bob@example.com"), testBody("x"))
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d log lines, want one per recipient:\n%s", len(lines), logs.String())
	}
	for _, want := range []string{"rcpt=a***@example.com code=250", "rcpt=b***@example.com code=550"} {
		if !strings.Contains(logs.String(), want) || !strings.Contains(logs.String(), "ref=T1") {
			t.Errorf("log lacks %q:\n%s", want, logs.String())
		}
	}
	for _, full := range []string{"ann@example.com", "bob@example.com"} {
		if strings.Contains(logs.String(), full) {
			t.Errorf("log names %s in full:\n%s", full, logs.String())
		}
	}
}

func TestForwardDuplicateRecipient(t *testing.T) {
	up := startUpstream(t, nil)
	f := newTestForwarder(t, up, newMemDeliveries(), ForwarderOptions{}, nil)
	rcpts := []string{"Ann@Example.com", "bob@example.com", "ann@example.com"}
	wantResults(t, f.Forward(context.Background(), envelope(rcpts...), testBody("x")), rcpts, nil)
	if n := len(up.received()); n != 2 {
		t.Fatalf("upstream got %d messages, want 2: one per distinct recipient", n)
	}
}

func TestForwardTransformError(t *testing.T) {
	up := startUpstream(t, nil)
	refuse := smtpreply.New(smtpreply.BadMedia, smtpreply.Footer, "bad MIME", nil)
	transform := func(rcpt string, body []byte) ([]byte, error) {
		switch rcpt {
		case "bob@example.com":
			return nil, errors.New("template missing")
		case "cid@example.com":
			return nil, refuse
		}
		return body, nil
	}
	f := newTestForwarder(t, up, newMemDeliveries(), ForwarderOptions{Transform: transform}, nil)
	rcpts := []string{"ann@example.com", "bob@example.com", "cid@example.com"}
	res := f.Forward(context.Background(), envelope(rcpts...), testBody("x"))
	wantResults(t, res, rcpts, map[string]bool{"bob@example.com": true, "cid@example.com": true})
	wantError(t, res[1].Err, smtpreply.CodeLocalError, smtpreply.Local.Enhanced, true)
	if res[2].Err != refuse {
		t.Errorf("cid: err = %v, want the transform's own *Error", res[2].Err)
	}
	if n := len(up.received()); n != 1 {
		t.Fatalf("upstream got %d messages, want 1", n)
	}
}

// The store sees keyed digests only: no address, no body, and a different
// key gives different digests. The recipient digest names the person,
// whatever the spelling.
func TestForwardDigests(t *testing.T) {
	a := NewForwarder(nil, nil, ForwarderOptions{DigestKey: []byte("k1")}, nil)
	b := NewForwarder(nil, nil, ForwarderOptions{DigestKey: []byte("k2")}, nil)
	if a.rcptKey("Ann@Example.com") != a.rcptKey("ann@example.com") {
		t.Error("recipient digest depends on case")
	}
	if a.rcptKey("Jean.Dupont+1@gmail.com") != a.rcptKey("jeandupont@googlemail.com") {
		t.Error("recipient digest depends on how the person is spelt")
	}
	if a.rcptKey("ann@example.com") == a.rcptKey("bob@example.com") {
		t.Error("two people share a recipient digest")
	}
	if a.rcptKey("ann@example.com") == b.rcptKey("ann@example.com") {
		t.Error("recipient digest does not depend on the key")
	}
	if a.msgKey("x@y", []byte("body")) == a.msgKey("x@yb", []byte("ody")) {
		t.Error("sender and body run together in the message digest")
	}
	if a.msgKey("x@y", []byte("body")) == b.msgKey("x@y", []byte("body")) {
		t.Error("message digest does not depend on the key")
	}

	up := startUpstream(t, nil)
	d := newMemDeliveries()
	f := newTestForwarder(t, up, d, ForwarderOptions{Remember: time.Hour}, nil)
	f.Forward(context.Background(), envelope("ann@example.com"), testBody("x"))
	for msg, rcpts := range d.marks {
		for r, ttl := range rcpts {
			if strings.Contains(msg+r, "ann") || len(r) != 64 || len(msg) != 64 {
				t.Errorf("store key %q/%q is not an opaque digest", msg, r)
			}
			if ttl != time.Hour {
				t.Errorf("mark TTL = %v, want the configured 1h", ttl)
			}
		}
	}
	if d.markedCalls != 1 {
		t.Errorf("%d marks, want 1", d.markedCalls)
	}
}

// TestForwardReturnPath: each copy goes out from its own return path, ""
// keeping the envelope's sender.
func TestForwardReturnPath(t *testing.T) {
	up := startUpstream(t, nil)
	f := newTestForwarder(t, up, newMemDeliveries(), ForwarderOptions{}, nil)
	env := envelope("ann@example.com", "bob@example.com")
	env.ReturnPath = func(rcpt string) string {
		if rcpt == "bob@example.com" {
			return ""
		}
		return "bounces+tok-" + rcpt[:3] + "@bounce.example"
	}
	wantResults(t, f.Forward(context.Background(), env, testBody("return path")), []string{"ann@example.com", "bob@example.com"}, nil)
	from := map[string]string{}
	for _, m := range up.received() {
		from[m.Rcpts[0]] = m.From
	}
	if from["ann@example.com"] != "bounces+tok-ann@bounce.example" || from["bob@example.com"] != testFrom {
		t.Fatalf("envelope senders %v", from)
	}
}
