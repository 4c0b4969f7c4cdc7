package embedded

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/dncgate/dncgate/webhook"
)

var _ webhook.Queue = (*Store)(nil)

// webhookSchema is the queue of webhook jobs: one row per event and
// endpoint until it is delivered; dead rows stay until retried.
const webhookSchema = `CREATE TABLE IF NOT EXISTS webhook_jobs (
	id         TEXT PRIMARY KEY,
	endpoint   TEXT NOT NULL,
	body       BLOB NOT NULL,
	created_at INTEGER NOT NULL,
	attempts   INTEGER NOT NULL DEFAULT 0,
	next_at    INTEGER NOT NULL,
	last_error TEXT NOT NULL DEFAULT '',
	dead       INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS webhook_jobs_due ON webhook_jobs (dead, next_at);`

const (
	qWebhookAdd = `INSERT INTO webhook_jobs (id, endpoint, body, created_at, next_at)
		VALUES (?1, ?2, ?3, ?4, ?4) ON CONFLICT (id) DO NOTHING`
	// One statement: SQLite runs it under its write lock, so two
	// processes never claim the same row.
	qWebhookClaim = `UPDATE webhook_jobs SET next_at = ?2
		WHERE id = (SELECT id FROM webhook_jobs WHERE dead = 0 AND next_at <= ?1 ORDER BY next_at LIMIT 1)
		RETURNING ` + webhookCols
	qWebhookDone   = `DELETE FROM webhook_jobs WHERE id = ?1`
	qWebhookRetry  = `UPDATE webhook_jobs SET attempts = ?2, next_at = ?3, last_error = ?4 WHERE id = ?1 AND dead = 0`
	qWebhookKill   = `UPDATE webhook_jobs SET attempts = ?2, last_error = ?3, dead = 1 WHERE id = ?1`
	qWebhookList   = `SELECT ` + webhookCols + ` FROM webhook_jobs WHERE dead = ?1 ORDER BY created_at, id LIMIT ?2`
	qWebhookRevive = `UPDATE webhook_jobs SET dead = 0, attempts = 0, created_at = ?2, next_at = ?2, last_error = '' WHERE id = ?1 AND dead = 1`
	webhookCols    = `id, endpoint, body, created_at, attempts, next_at, last_error, dead`
)

// EnqueueWebhooks adds the jobs in one transaction: all or none.
func (s *Store) EnqueueWebhooks(ctx context.Context, jobs []webhook.Job) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("embedded: webhooks: %w", err)
	}
	defer tx.Rollback()
	for _, j := range jobs {
		if _, err := tx.ExecContext(ctx, qWebhookAdd, j.ID, j.Endpoint, j.Body, nanos(j.Created)); err != nil {
			return fmt.Errorf("embedded: webhooks: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("embedded: webhooks: %w", err)
	}
	return nil
}

func (s *Store) ClaimWebhook(ctx context.Context, now time.Time, lease time.Duration) (webhook.Job, bool, error) {
	j, err := scanJob(s.w.QueryRowContext(ctx, qWebhookClaim, nanos(now), nanos(now.Add(lease))))
	if errors.Is(err, sql.ErrNoRows) {
		return j, false, nil
	}
	if err != nil {
		return j, false, fmt.Errorf("embedded: webhooks: claim: %w", err)
	}
	return j, true, nil
}

func (s *Store) FinishWebhook(ctx context.Context, id string) error {
	return s.execWebhook(ctx, qWebhookDone, id)
}

func (s *Store) RetryWebhook(ctx context.Context, id string, attempts int, next time.Time, lastErr string) error {
	return s.execWebhook(ctx, qWebhookRetry, id, attempts, nanos(next), lastErr)
}

func (s *Store) KillWebhook(ctx context.Context, id string, attempts int, lastErr string) error {
	return s.execWebhook(ctx, qWebhookKill, id, attempts, lastErr)
}

func (s *Store) ReviveWebhook(ctx context.Context, id string, now time.Time) error {
	res, err := s.w.ExecContext(ctx, qWebhookRevive, id, nanos(now))
	if err != nil {
		return fmt.Errorf("embedded: webhooks: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("%w: %q", webhook.ErrNotDead, id)
	}
	return nil
}

func (s *Store) Webhooks(ctx context.Context, dead bool, limit int) ([]webhook.Job, error) {
	rows, err := s.r.QueryContext(ctx, qWebhookList, dead, limit)
	if err != nil {
		return nil, fmt.Errorf("embedded: webhooks: %w", err)
	}
	defer rows.Close()
	var out []webhook.Job
	for rows.Next() {
		j, err := scanJob(rows)
		if err != nil {
			return nil, fmt.Errorf("embedded: webhooks: %w", err)
		}
		out = append(out, j)
	}
	return out, rows.Err()
}

func (s *Store) execWebhook(ctx context.Context, q string, args ...any) error {
	if _, err := s.w.ExecContext(ctx, q, args...); err != nil {
		return fmt.Errorf("embedded: webhooks: %w", err)
	}
	return nil
}

func scanJob(r interface{ Scan(...any) error }) (webhook.Job, error) {
	var j webhook.Job
	var created, next int64
	err := r.Scan(&j.ID, &j.Endpoint, &j.Body, &created, &j.Attempts, &next, &j.LastError, &j.Dead)
	j.Created, j.NextAt = fromNanos(created), fromNanos(next)
	return j, err
}
