// Package webhook tells a CRM of opt-outs and erasures: each event becomes
// one signed JSON POST per subscribed endpoint, queued durably in the
// store and delivered at least once, with retries, by one instance.
package webhook

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Type is what happened to a person.
type Type string

const (
	OptOut  Type = "opt-out"
	Erasure Type = "erasure"
)

// Valid reports whether t is a known event type.
func (t Type) Valid() bool { return t == OptOut || t == Erasure }

// Event is one opt-out or erasure as the CRM receives it.
type Event struct {
	ID      string    `json:"id"`
	Type    Type      `json:"type"`
	At      time.Time `json:"time"`
	Address string    `json:"address,omitempty"` // left out for include_address = false
	Digest  string    `json:"digest"`            // the keyed digest of the normalised address, hex
	Source  string    `json:"source"`            // link, one-click, mailto, cli, api
	Actor   string    `json:"actor"`
}

// Job is one event waiting for one endpoint: its body is fixed when it is
// queued, so every retry sends the same bytes and the same event id.
type Job struct {
	ID        string // event id + "/" + endpoint name
	Endpoint  string
	Body      []byte
	Created   time.Time
	Attempts  int
	NextAt    time.Time // due from then; a claim moves it to the lease's end
	LastError string
	Dead      bool
}

// Queue is the durable queue the store keeps (store/embedded: a table;
// store/redisstore: keys in one hash slot).
type Queue interface {
	// EnqueueWebhooks adds the jobs, due at once; a job id already queued
	// is left as it is.
	EnqueueWebhooks(ctx context.Context, jobs []Job) error
	// ClaimWebhook leases the job due first (NextAt <= now, not dead) for
	// lease: its NextAt moves to now+lease, so no other instance claims
	// it meanwhile and a crashed one's job comes back. ok is false when
	// none is due.
	ClaimWebhook(ctx context.Context, now time.Time, lease time.Duration) (j Job, ok bool, err error)
	// FinishWebhook deletes a delivered job.
	FinishWebhook(ctx context.Context, id string) error
	// RetryWebhook records a failed attempt: attempts, the error and when
	// the job is due again.
	RetryWebhook(ctx context.Context, id string, attempts int, next time.Time, lastErr string) error
	// KillWebhook dead-letters the job: kept, never claimed again.
	KillWebhook(ctx context.Context, id string, attempts int, lastErr string) error
	// Webhooks lists jobs, dead ones or live ones, oldest first, up to limit.
	Webhooks(ctx context.Context, dead bool, limit int) ([]Job, error)
	// ReviveWebhook queues a dead job again, due at now, its attempts and
	// age counted afresh from now; store.ErrNotFound-like errors when it is
	// not dead.
	ReviveWebhook(ctx context.Context, id string, now time.Time) error
}

// ErrNotDead is returned by ReviveWebhook for a job that is not among the
// dead letters.
var ErrNotDead = errors.New("no such dead webhook job")

// NewID returns a random event id.
func NewID() string {
	var b [16]byte
	rand.Read(b[:]) // never fails (crypto/rand)
	return "evt_" + hex.EncodeToString(b[:])
}

// Notifier turns events into jobs for the endpoints subscribed to them.
type Notifier struct {
	Queue     Queue
	Endpoints []Endpoint
	Now       func() time.Time // default time.Now
}

// Notify queues ev for each endpoint subscribed to its type. An error
// means the event is not queued: the caller surfaces it (a 503 to an API
// client, an error line and a non-zero exit for the CLI).
func (n *Notifier) Notify(ctx context.Context, ev Event) error {
	if n == nil || len(n.Endpoints) == 0 {
		return nil
	}
	now := time.Now
	if n.Now != nil {
		now = n.Now
	}
	if ev.ID == "" {
		ev.ID = NewID()
	}
	if ev.At.IsZero() {
		ev.At = now()
	}
	ev.At = ev.At.UTC().Truncate(time.Second)
	var jobs []Job
	for _, e := range n.Endpoints {
		if !e.Wants(ev.Type) {
			continue
		}
		out := ev
		if !e.IncludeAddress {
			out.Address = ""
		}
		body, err := json.Marshal(out)
		if err != nil {
			return fmt.Errorf("webhook: encoding the event: %w", err)
		}
		jobs = append(jobs, Job{ID: ev.ID + "/" + e.Name, Endpoint: e.Name, Body: body, Created: now()})
	}
	if len(jobs) == 0 {
		return nil
	}
	if err := n.Queue.EnqueueWebhooks(ctx, jobs); err != nil {
		return fmt.Errorf("webhook: queueing the %s event: %w", ev.Type, err)
	}
	return nil
}
