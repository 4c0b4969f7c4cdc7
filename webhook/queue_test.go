package webhook_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/dncgate/dncgate/internal/teststore"
	"github.com/dncgate/dncgate/webhook"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func job(id string, created time.Time) webhook.Job {
	return webhook.Job{ID: id, Endpoint: "crm", Body: []byte(`{"id":"` + id + `"}`), Created: created}
}

// TestQueue is the queue's contract on every store: one claim per lease,
// retries due at their time, dead letters kept apart and revived.
func TestQueue(t *testing.T) {
	teststore.Each(t, func(t *testing.T, q teststore.Store) {
		ctx := context.Background()
		if err := q.EnqueueWebhooks(ctx, []webhook.Job{job("a", t0), job("b", t0.Add(time.Second))}); err != nil {
			t.Fatal(err)
		}
		// A job queued twice stays one job.
		if err := q.EnqueueWebhooks(ctx, []webhook.Job{job("a", t0.Add(time.Hour))}); err != nil {
			t.Fatal(err)
		}
		now := t0.Add(2 * time.Second)
		a, ok, err := q.ClaimWebhook(ctx, now, time.Minute)
		if err != nil || !ok || a.ID != "a" || string(a.Body) != `{"id":"a"}` || !a.Created.Equal(t0) {
			t.Fatalf("first claim = %+v, %v, %v; want job a as queued", a, ok, err)
		}
		b, ok, err := q.ClaimWebhook(ctx, now, time.Minute)
		if err != nil || !ok || b.ID != "b" {
			t.Fatalf("second claim = %+v, %v, %v; want job b", b, ok, err)
		}
		if j, ok, err := q.ClaimWebhook(ctx, now, time.Minute); err != nil || ok {
			t.Fatalf("third claim while both are leased = %+v, %v, %v; want none", j, ok, err)
		}
		// A lease that ran out (the instance died) gives the job back.
		if j, ok, _ := q.ClaimWebhook(ctx, now.Add(time.Minute), time.Minute); !ok || j.ID != "a" {
			t.Fatalf("claim after the lease = %+v, %v; want job a again", j, ok)
		}
		if err := q.RetryWebhook(ctx, "a", 1, now.Add(10*time.Minute), "POST: 500"); err != nil {
			t.Fatal(err)
		}
		if err := q.FinishWebhook(ctx, "b"); err != nil {
			t.Fatal(err)
		}
		if j, ok, _ := q.ClaimWebhook(ctx, now.Add(9*time.Minute), time.Minute); ok {
			t.Fatalf("claim before the retry is due = %+v; want none (b was delivered)", j)
		}
		a, ok, _ = q.ClaimWebhook(ctx, now.Add(10*time.Minute), time.Minute)
		if !ok || a.ID != "a" || a.Attempts != 1 || a.LastError != "POST: 500" {
			t.Fatalf("retried claim = %+v, %v; want a with 1 attempt and its error", a, ok)
		}
		if err := q.KillWebhook(ctx, "a", 2, "POST: 503"); err != nil {
			t.Fatal(err)
		}
		if j, ok, _ := q.ClaimWebhook(ctx, now.Add(time.Hour), time.Minute); ok {
			t.Fatalf("a dead job was claimed: %+v", j)
		}
		dead, err := q.Webhooks(ctx, true, 10)
		if err != nil || len(dead) != 1 || dead[0].ID != "a" || !dead[0].Dead || dead[0].Attempts != 2 || dead[0].LastError != "POST: 503" {
			t.Fatalf("dead = %+v, %v; want a, dead after 2 attempts", dead, err)
		}
		if live, _ := q.Webhooks(ctx, false, 10); len(live) != 0 {
			t.Fatalf("live = %+v; want none", live)
		}
		if err := q.ReviveWebhook(ctx, "b", now); !errors.Is(err, webhook.ErrNotDead) {
			t.Fatalf("reviving a delivered job: %v; want ErrNotDead", err)
		}
		later := now.Add(2 * time.Hour)
		if err := q.ReviveWebhook(ctx, "a", later); err != nil {
			t.Fatal(err)
		}
		a, ok, _ = q.ClaimWebhook(ctx, later, time.Minute)
		if !ok || a.ID != "a" || a.Attempts != 0 || !a.Created.Equal(later) {
			t.Fatalf("revived claim = %+v, %v; want a afresh, its age counted from the retry", a, ok)
		}
		if dead, _ := q.Webhooks(ctx, true, 10); len(dead) != 0 {
			t.Fatalf("dead after revival = %+v; want none", dead)
		}
	})
}
