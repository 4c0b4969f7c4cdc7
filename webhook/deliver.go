package webhook

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"time"
)

// Back-off between attempts: BaseDelay doubled per failed attempt, capped
// at MaxDelay, each delay drawn at random in its upper half so instances
// that failed together do not retry together. The attempt count lives in
// the store with the job, so the delay is a function of it rather than a
// back-off object kept in one process's memory.
const (
	BaseDelay = 2 * time.Second
	MaxDelay  = 15 * time.Minute
)

// Delay is the wait after the attempts-th failed attempt, with jitter.
func Delay(attempts int) time.Duration {
	d := MaxDelay
	if attempts < 20 {
		d = min(BaseDelay<<max(attempts-1, 0), MaxDelay)
	}
	return d/2 + rand.N(d/2+1)
}

// Deliverer takes due jobs from the queue and POSTs them.
type Deliverer struct {
	Queue     Queue
	Endpoints []Endpoint
	Client    *http.Client // default: one without redirects
	Now       func() time.Time
	Log       *slog.Logger
	Metrics   *Metrics
	// Poll is how often the queue is looked at when it was found empty;
	// default one second.
	Poll time.Duration
}

// lease is how long a claimed job is held for one attempt: longer than
// any endpoint's timeout, so a slow attempt is not sent twice at once.
func (d *Deliverer) lease(e Endpoint) time.Duration { return e.timeout() + 30*time.Second }

func (d *Deliverer) now() time.Time {
	if d.Now != nil {
		return d.Now()
	}
	return time.Now()
}

// Run delivers until ctx ends.
func (d *Deliverer) Run(ctx context.Context) {
	poll := d.Poll
	if poll <= 0 {
		poll = time.Second
	}
	t := time.NewTicker(poll)
	defer t.Stop()
	for {
		for d.Step(ctx) {
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Step claims and attempts one due job; false when none was due or the
// queue could not be read (logged).
func (d *Deliverer) Step(ctx context.Context) bool {
	if ctx.Err() != nil {
		return false
	}
	now := d.now()
	j, ok, err := d.Queue.ClaimWebhook(ctx, now, d.maxLease())
	if err != nil {
		if ctx.Err() == nil {
			d.Log.Error("webhook: reading the queue", "err", err.Error())
		}
		return false
	}
	if !ok {
		return false
	}
	e, found := d.endpoint(j.Endpoint)
	if !found {
		d.settle(ctx, j, Endpoint{Name: j.Endpoint}, now, fmt.Errorf("endpoint %q is no longer configured", j.Endpoint))
		return true
	}
	d.settle(ctx, j, e, now, d.post(ctx, e, j))
	return true
}

func (d *Deliverer) maxLease() time.Duration {
	l := d.lease(Endpoint{})
	for _, e := range d.Endpoints {
		l = max(l, d.lease(e))
	}
	return l
}

func (d *Deliverer) endpoint(name string) (Endpoint, bool) {
	for _, e := range d.Endpoints {
		if e.Name == name {
			return e, true
		}
	}
	return Endpoint{}, false
}

// settle records the attempt's outcome: delivered, due again after the
// back-off, or dead once the job is older than the endpoint's max age.
func (d *Deliverer) settle(ctx context.Context, j Job, e Endpoint, now time.Time, sendErr error) {
	ctx = context.WithoutCancel(ctx)
	d.Metrics.attempt(j.Endpoint, sendErr == nil)
	if sendErr == nil {
		if err := d.Queue.FinishWebhook(ctx, j.ID); err != nil {
			d.Log.Error("webhook: delivered but not taken off the queue; it will be sent again", "job", j.ID, "err", err.Error())
		}
		return
	}
	attempts := j.Attempts + 1
	if now.Sub(j.Created) >= e.maxAge() {
		d.Metrics.died(j.Endpoint)
		d.Log.Error("webhook: given up, dead-lettered", "job", j.ID, "endpoint", j.Endpoint, "attempts", attempts, "err", sendErr.Error())
		if err := d.Queue.KillWebhook(ctx, j.ID, attempts, sendErr.Error()); err != nil {
			d.Log.Error("webhook: dead-lettering", "job", j.ID, "err", err.Error())
		}
		return
	}
	wait := Delay(attempts)
	d.Log.Warn("webhook: attempt failed", "job", j.ID, "endpoint", j.Endpoint, "attempts", attempts, "retry_in", wait.Round(time.Second), "err", sendErr.Error())
	if err := d.Queue.RetryWebhook(ctx, j.ID, attempts, now.Add(wait), sendErr.Error()); err != nil {
		d.Log.Error("webhook: recording the failed attempt; the lease's end brings it back", "job", j.ID, "err", err.Error())
	}
}

// post sends the job's body once; any answer but 2xx is a failure. The
// error names the status, never the body or the URL's query.
func (d *Deliverer) post(ctx context.Context, e Endpoint, j Job) error {
	ctx, cancel := context.WithTimeout(ctx, e.timeout())
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.URL, bytes.NewReader(j.Body))
	if err != nil {
		return fmt.Errorf("request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "dncgate-webhook")
	req.Header.Set(SignatureHeader, Sign(e.Secret, d.now(), j.Body))
	resp, err := d.client().Do(req)
	if err != nil {
		return fmt.Errorf("POST: %w", redactURL(err))
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("POST: the endpoint answered %s", resp.Status)
	}
	return nil
}

func (d *Deliverer) client() *http.Client {
	if d.Client != nil {
		return d.Client
	}
	return noRedirects
}

// noRedirects follows no redirect: a signed event goes only where it was
// configured to go.
var noRedirects = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
