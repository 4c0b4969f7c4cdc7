package webhook_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/dncgate/dncgate/internal/teststore"
	"github.com/dncgate/dncgate/webhook"
)

var secret = []byte("s3cret-shared-with-the-crm")

// receiver is a CRM endpoint that answers with the statuses in plan, in
// turn (0: hang past the sender's timeout), then 200; it verifies each
// signature as a receiver must and keeps the events it got.
type receiver struct {
	t    *testing.T
	mu   sync.Mutex
	plan []int
	got  []webhook.Event
	bad  []string
	srv  *httptest.Server
	now  func() time.Time // the sender's clock, to check the replay window against
}

func newReceiver(t *testing.T, plan ...int) *receiver {
	r := &receiver{t: t, plan: plan, now: time.Now}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	if err := webhook.Verify(secret, req.Header.Get(webhook.SignatureHeader), body, r.now(), 5*time.Minute); err != nil {
		r.bad = append(r.bad, err.Error())
	}
	status := http.StatusOK
	if len(r.plan) > 0 {
		status, r.plan = r.plan[0], r.plan[1:]
	}
	if status == http.StatusOK {
		var ev webhook.Event
		if err := json.Unmarshal(body, &ev); err != nil {
			r.bad = append(r.bad, err.Error())
		}
		r.got = append(r.got, ev)
	}
	r.mu.Unlock()
	if status == 0 {
		select {
		case <-req.Context().Done():
		case <-time.After(5 * time.Second):
		}
		return
	}
	w.WriteHeader(status)
}

// clock is the deliverer's time, moved by the test: no sleeping through
// back-offs.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// drain steps the deliverer, moving the clock past each back-off, until
// the queue holds no live job or steps run out.
func drain(t *testing.T, d *webhook.Deliverer, q webhook.Queue, c *clock, steps int) {
	t.Helper()
	ctx := context.Background()
	for range steps {
		for d.Step(ctx) {
		}
		live, err := q.Webhooks(ctx, false, 100)
		if err != nil {
			t.Fatal(err)
		}
		if len(live) == 0 {
			return
		}
		c.add(webhook.MaxDelay)
	}
	t.Fatalf("jobs still queued after %d rounds", steps)
}

// TestDeliveryRetries: a receiver that fails with 500s and a timeout
// before it answers still gets every event, each with its one event id,
// signed; it may get one more than once (at-least-once), never none.
func TestDeliveryRetries(t *testing.T) {
	teststore.Each(t, func(t *testing.T, q teststore.Store) {
		r := newReceiver(t, 500, 0, 503)
		c := &clock{t: time.Now()}
		r.now = c.now
		ep := webhook.Endpoint{Name: "crm", URL: r.srv.URL + "/hook?token=x", Secret: secret,
			Events: []webhook.Type{webhook.OptOut, webhook.Erasure}, Timeout: 300 * time.Millisecond, IncludeAddress: true}
		n := &webhook.Notifier{Queue: q, Endpoints: []webhook.Endpoint{ep}, Now: c.now}
		ctx := context.Background()
		want := map[string]webhook.Type{}
		for i, typ := range []webhook.Type{webhook.OptOut, webhook.Erasure, webhook.OptOut} {
			ev := webhook.Event{ID: webhook.NewID(), Type: typ, Address: "p" + string(rune('a'+i)) + "@example.net", Digest: "d", Source: "api", Actor: "admin@acme.example"}
			if err := n.Notify(ctx, ev); err != nil {
				t.Fatal(err)
			}
			want[ev.ID] = typ
		}
		reg := prometheus.NewRegistry()
		m := webhook.NewMetrics(reg)
		d := &webhook.Deliverer{Queue: q, Endpoints: []webhook.Endpoint{ep}, Now: c.now, Log: slog.New(slog.DiscardHandler), Metrics: m}
		drain(t, d, q, c, 20)
		r.mu.Lock()
		defer r.mu.Unlock()
		if len(r.bad) > 0 {
			t.Fatalf("the receiver refused: %v", r.bad)
		}
		for _, ev := range r.got {
			typ, ok := want[ev.ID]
			if !ok || typ != ev.Type || !strings.HasSuffix(ev.Address, "@example.net") || ev.Actor != "admin@acme.example" {
				t.Errorf("unexpected event %+v", ev)
			}
			delete(want, ev.ID)
		}
		if len(want) > 0 {
			t.Errorf("events never delivered: %v", want)
		}
		if got := value(m.Attempts("crm", false)); got != 3 {
			t.Errorf("failed attempts = %v; want 3 (500, timeout, 503)", got)
		}
	})
}

// TestDeadLetter: an endpoint that never answers 2xx gets its events
// dead-lettered at max age, counted, and a revived one is delivered.
func TestDeadLetter(t *testing.T) {
	teststore.Each(t, func(t *testing.T, q teststore.Store) {
		r := newReceiver(t, 500, 500, 500, 500, 500, 500, 500, 500)
		c := &clock{t: time.Now()}
		r.now = c.now
		ep := webhook.Endpoint{Name: "crm", URL: r.srv.URL, Secret: secret, Events: []webhook.Type{webhook.OptOut}, MaxAge: 30 * time.Minute}
		n := &webhook.Notifier{Queue: q, Endpoints: []webhook.Endpoint{ep}, Now: c.now}
		ctx := context.Background()
		if err := n.Notify(ctx, webhook.Event{Type: webhook.OptOut, Address: "p@example.net", Digest: "d", Source: "link", Actor: "recipient"}); err != nil {
			t.Fatal(err)
		}
		// Not subscribed: no job.
		if err := n.Notify(ctx, webhook.Event{Type: webhook.Erasure, Digest: "d"}); err != nil {
			t.Fatal(err)
		}
		m := webhook.NewMetrics(prometheus.NewRegistry())
		d := &webhook.Deliverer{Queue: q, Endpoints: []webhook.Endpoint{ep}, Now: c.now, Log: slog.New(slog.DiscardHandler), Metrics: m}
		drain(t, d, q, c, 20)
		dead, err := q.Webhooks(ctx, true, 10)
		if err != nil || len(dead) != 1 || !strings.Contains(dead[0].LastError, "500") {
			t.Fatalf("dead = %+v, %v; want the one opt-out, with the 500 it last got", dead, err)
		}
		if got := value(m.Dead("crm")); got != 1 {
			t.Errorf("dead counter = %v; want 1", got)
		}
		r.mu.Lock()
		r.plan = nil
		r.mu.Unlock()
		if err := q.ReviveWebhook(ctx, dead[0].ID, c.now()); err != nil {
			t.Fatal(err)
		}
		drain(t, d, q, c, 3)
		r.mu.Lock()
		defer r.mu.Unlock()
		if len(r.got) != 1 || r.got[0].Type != webhook.OptOut || r.got[0].ID+"/crm" != dead[0].ID {
			t.Fatalf("after the retry the receiver got %+v; want the dead opt-out", r.got)
		}
	})
}

// TestIncludeAddress: include_address = false sends the digest alone.
func TestIncludeAddress(t *testing.T) {
	teststore.Each(t, func(t *testing.T, q teststore.Store) {
		r := newReceiver(t)
		ep := webhook.Endpoint{Name: "crm", URL: r.srv.URL, Secret: secret, Events: []webhook.Type{webhook.OptOut}}
		n := &webhook.Notifier{Queue: q, Endpoints: []webhook.Endpoint{ep}}
		ctx := context.Background()
		if err := n.Notify(ctx, webhook.Event{Type: webhook.OptOut, Address: "p@example.net", Digest: "abcd", Source: "cli", Actor: "ops"}); err != nil {
			t.Fatal(err)
		}
		jobs, _ := q.Webhooks(ctx, false, 10)
		if len(jobs) != 1 || strings.Contains(string(jobs[0].Body), "example.net") {
			t.Fatalf("queued %+v; want one job without the address", jobs)
		}
		d := &webhook.Deliverer{Queue: q, Endpoints: []webhook.Endpoint{ep}, Log: slog.New(slog.DiscardHandler)}
		for d.Step(ctx) {
		}
		if len(r.got) != 1 || r.got[0].Address != "" || r.got[0].Digest != "abcd" {
			t.Fatalf("received %+v; want the digest alone", r.got)
		}
	})
}

func value(c prometheus.Counter) float64 {
	var m dto.Metric
	c.Write(&m)
	return m.GetCounter().GetValue()
}
