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

type heldTag struct{}

// fakeHolder tags the contexts it holds writes under and logs each step.
type fakeHolder struct {
	mu    sync.Mutex
	steps []string
	fail  error
}

func (h *fakeHolder) HoldWrites(ctx context.Context) (context.Context, func(context.Context) error) {
	h.log("hold")
	return context.WithValue(ctx, heldTag{}, true), func(context.Context) error {
		h.log("flush")
		return h.fail
	}
}

func (h *fakeHolder) log(s string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.steps = append(h.steps, s)
}

func (h *fakeHolder) got() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.steps)
}

func isHeld(ctx context.Context) bool { return ctx.Value(heldTag{}) != nil }

// heldSent and heldCapper log whether their writes came under a held
// context.
type heldSent struct {
	*fakeSent
	h *fakeHolder
}

func (s heldSent) MarkDelivered(ctx context.Context, msg, rcpt string, ttl time.Duration) error {
	s.h.log("sent-id held=" + boolText(isHeld(ctx)))
	return s.fakeSent.MarkDelivered(ctx, msg, rcpt, ttl)
}

type heldCapper struct {
	*fakeCapper
	h *fakeHolder
}

func (c heldCapper) Reserve(ctx context.Context, rep, rcpt string, cc country.Code, msgID string, now time.Time) (CapTicket, *caps.Refusal, error) {
	t, r, err := c.fakeCapper.Reserve(ctx, rep, rcpt, cc, msgID, now)
	if t == nil {
		return nil, r, err
	}
	return heldTicket{t, c.h}, r, err
}

type heldTicket struct {
	CapTicket
	h *fakeHolder
}

func (t heldTicket) Commit(ctx context.Context, now time.Time) error {
	t.h.log("commit held=" + boolText(isHeld(ctx)))
	return t.CapTicket.Commit(ctx, now)
}

func boolText(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// A delivery's marks, sent Message-ID and caps' commit are written under
// one held context, flushed once the upstream answered and before the
// client's reply.
func TestDeliveryHoldsItsWrites(t *testing.T) {
	h := &fakeHolder{}
	sent := newFakeSent()
	e := testServer(t, withCaps(heldCapper{newFakeCapper(), h}),
		func(o *Options) {
			o.Replies = Replies{Sent: heldSent{sent, h}, Key: []byte(testIDKey), Keep: keepIDs}
			o.Writes = h
		})
	c := e.login(t)
	sendThreaded(t, c, "p@prospect.test", "first@acme.fr", "")
	want := []string{"hold", "sent-id held=yes", "commit held=yes", "flush"}
	if got := h.got(); !slices.Equal(got, want) {
		t.Fatalf("steps = %q, want %q", got, want)
	}
	calls := e.fwd.calls
	if len(calls) != 1 || !isHeld(calls[0].ctx) {
		t.Fatalf("the forwarder's context holds no writes (%d calls)", len(calls))
	}
}

// A flush that fails is logged; the client still gets its 250, since the
// upstream has the message.
func TestDeliveryFlushFails(t *testing.T) {
	h := &fakeHolder{fail: errors.New("store gone")}
	e := testServer(t, func(o *Options) { o.Writes = h })
	c := e.login(t)
	sendThreaded(t, c, "p@prospect.test", "first@acme.fr", "")
	if !strings.Contains(e.logs.String(), "delivered but not all recorded") || !strings.Contains(e.logs.String(), "store gone") {
		t.Fatalf("no log line for the failed flush:\n%s", e.logs.String())
	}
}
