package redisstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/dncgate/dncgate/webhook"
)

var _ webhook.Queue = (*Store)(nil)

// The webhooks' queue is three keys in the {webhooks} hash slot, so each
// script below touches one slot of a cluster: a hash of the jobs (id →
// JSON), a sorted set of the live ones by when they are due and one of
// the dead ones by when they were created.
func (k keys) webhookJobs() string { return k.prefix + "{webhooks}:jobs" }
func (k keys) webhookDue() string  { return k.prefix + "{webhooks}:due" }
func (k keys) webhookDead() string { return k.prefix + "{webhooks}:dead" }

func (s *Store) webhookKeys() []string {
	return []string{s.keys.webhookJobs(), s.keys.webhookDue(), s.keys.webhookDead()}
}

// storedJob is a job as the hash keeps it; times in Unix milliseconds.
type storedJob struct {
	Endpoint  string `json:"e"`
	Body      []byte `json:"b"`
	Created   int64  `json:"c"`
	Attempts  int    `json:"a"`
	NextAt    int64  `json:"n"`
	LastError string `json:"l,omitempty"`
	Dead      bool   `json:"d,omitempty"`
}

func toStored(j webhook.Job) storedJob {
	return storedJob{Endpoint: j.Endpoint, Body: j.Body, Created: j.Created.UnixMilli(), Attempts: j.Attempts,
		NextAt: j.NextAt.UnixMilli(), LastError: j.LastError, Dead: j.Dead}
}

func fromStored(id string, sj storedJob) webhook.Job {
	return webhook.Job{ID: id, Endpoint: sj.Endpoint, Body: sj.Body, Created: time.UnixMilli(sj.Created).UTC(),
		Attempts: sj.Attempts, NextAt: time.UnixMilli(sj.NextAt).UTC(), LastError: sj.LastError, Dead: sj.Dead}
}

// enqueueScript adds ARGV pairs (id, JSON, due) unless the id is known.
var enqueueScript = redis.NewScript(`
for i = 1, #ARGV, 3 do
	if redis.call('HSETNX', KEYS[1], ARGV[i], ARGV[i + 1]) == 1 then
		redis.call('ZADD', KEYS[2], ARGV[i + 2], ARGV[i])
	end
end
return 1`)

// claimScript leases the job due first: ARGV[1] now, ARGV[2] the lease's
// end, both in ms. It returns {id, JSON} or nothing; the caller moves
// next_at in the JSON with the score it set.
var claimScript = redis.NewScript(`
local due = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[1], 'LIMIT', 0, 1)
if #due == 0 then return false end
redis.call('ZADD', KEYS[2], ARGV[2], due[1])
local j = redis.call('HGET', KEYS[1], due[1])
if not j then redis.call('ZREM', KEYS[2], due[1]) return false end
return {due[1], j}`)

// updateScript replaces a job's JSON (ARGV[2]) and places it: ARGV[3] is
// "due" (score ARGV[4]), "dead" (score ARGV[4]) or "done" (deleted).
// ARGV[5] "live" or "dead" is the state the job must be in, else nothing
// changes and 0 comes back.
var updateScript = redis.NewScript(`
local id = ARGV[1]
if redis.call('HEXISTS', KEYS[1], id) == 0 then return 0 end
local isDead = redis.call('ZSCORE', KEYS[3], id)
if ARGV[5] == 'live' and isDead then return 0 end
if ARGV[5] == 'dead' and not isDead then return 0 end
if ARGV[3] == 'done' then
	redis.call('HDEL', KEYS[1], id)
	redis.call('ZREM', KEYS[2], id)
	redis.call('ZREM', KEYS[3], id)
	return 1
end
redis.call('HSET', KEYS[1], id, ARGV[2])
if ARGV[3] == 'dead' then
	redis.call('ZREM', KEYS[2], id)
	redis.call('ZADD', KEYS[3], ARGV[4], id)
else
	redis.call('ZREM', KEYS[3], id)
	redis.call('ZADD', KEYS[2], ARGV[4], id)
end
return 1`)

// EnqueueWebhooks adds the jobs in one script: all or none.
func (s *Store) EnqueueWebhooks(ctx context.Context, jobs []webhook.Job) error {
	args := make([]any, 0, 3*len(jobs))
	for _, j := range jobs {
		j.NextAt = j.Created
		b, err := json.Marshal(toStored(j))
		if err != nil {
			return fmt.Errorf("redis: webhooks: %w", err)
		}
		args = append(args, j.ID, b, j.Created.UnixMilli())
	}
	if err := enqueueScript.Run(ctx, s.c, s.webhookKeys(), args...).Err(); err != nil {
		return fmt.Errorf("redis: webhooks: %w", err)
	}
	return nil
}

func (s *Store) ClaimWebhook(ctx context.Context, now time.Time, lease time.Duration) (webhook.Job, bool, error) {
	until := now.Add(lease).UnixMilli()
	v, err := claimScript.Run(ctx, s.c, s.webhookKeys(), now.UnixMilli(), until).StringSlice()
	if errors.Is(err, redis.Nil) {
		return webhook.Job{}, false, nil
	}
	if err != nil || len(v) != 2 {
		return webhook.Job{}, false, fmt.Errorf("redis: webhooks: claim: %v", err)
	}
	var sj storedJob
	if err := json.Unmarshal([]byte(v[1]), &sj); err != nil {
		return webhook.Job{}, false, fmt.Errorf("redis: webhooks: job %q: %w", v[0], err)
	}
	sj.NextAt = until
	return fromStored(v[0], sj), true, nil
}

func (s *Store) FinishWebhook(ctx context.Context, id string) error {
	_, err := s.updateWebhook(ctx, id, nil, "done", 0, "any")
	return err
}

func (s *Store) RetryWebhook(ctx context.Context, id string, attempts int, next time.Time, lastErr string) error {
	j, ok, err := s.webhookJob(ctx, id)
	if err != nil || !ok {
		return err
	}
	j.Attempts, j.NextAt, j.LastError = attempts, next, lastErr
	_, err = s.updateWebhook(ctx, id, &j, "due", next.UnixMilli(), "live")
	return err
}

func (s *Store) KillWebhook(ctx context.Context, id string, attempts int, lastErr string) error {
	j, ok, err := s.webhookJob(ctx, id)
	if err != nil || !ok {
		return err
	}
	j.Attempts, j.LastError, j.Dead = attempts, lastErr, true
	_, err = s.updateWebhook(ctx, id, &j, "dead", j.Created.UnixMilli(), "any")
	return err
}

func (s *Store) ReviveWebhook(ctx context.Context, id string, now time.Time) error {
	j, ok, err := s.webhookJob(ctx, id)
	if err != nil {
		return err
	}
	if !ok || !j.Dead {
		return fmt.Errorf("%w: %q", webhook.ErrNotDead, id)
	}
	j.Dead, j.Attempts, j.LastError, j.Created, j.NextAt = false, 0, "", now, now
	done, err := s.updateWebhook(ctx, id, &j, "due", now.UnixMilli(), "dead")
	if err == nil && !done {
		return fmt.Errorf("%w: %q", webhook.ErrNotDead, id)
	}
	return err
}

func (s *Store) Webhooks(ctx context.Context, dead bool, limit int) ([]webhook.Job, error) {
	set := s.keys.webhookDue()
	if dead {
		set = s.keys.webhookDead()
	}
	ids, err := s.c.ZRange(ctx, set, 0, int64(limit)-1).Result()
	if err != nil || len(ids) == 0 {
		return nil, wrapWebhook(err)
	}
	vals, err := s.c.HMGet(ctx, s.keys.webhookJobs(), ids...).Result()
	if err != nil {
		return nil, wrapWebhook(err)
	}
	var out []webhook.Job
	for i, v := range vals {
		str, ok := v.(string)
		if !ok {
			continue // delivered meanwhile
		}
		var sj storedJob
		if err := json.Unmarshal([]byte(str), &sj); err != nil {
			return nil, fmt.Errorf("redis: webhooks: job %q: %w", ids[i], err)
		}
		out = append(out, fromStored(ids[i], sj))
	}
	if !dead { // the due set is ordered by due time; list oldest first
		sortByCreated(out)
	}
	return out, nil
}

func (s *Store) webhookJob(ctx context.Context, id string) (webhook.Job, bool, error) {
	str, err := s.c.HGet(ctx, s.keys.webhookJobs(), id).Result()
	if errors.Is(err, redis.Nil) {
		return webhook.Job{}, false, nil
	}
	if err != nil {
		return webhook.Job{}, false, wrapWebhook(err)
	}
	var sj storedJob
	if err := json.Unmarshal([]byte(str), &sj); err != nil {
		return webhook.Job{}, false, fmt.Errorf("redis: webhooks: job %q: %w", id, err)
	}
	return fromStored(id, sj), true, nil
}

func (s *Store) updateWebhook(ctx context.Context, id string, j *webhook.Job, place string, score int64, must string) (bool, error) {
	var b []byte
	if j != nil {
		var err error
		if b, err = json.Marshal(toStored(*j)); err != nil {
			return false, wrapWebhook(err)
		}
	}
	n, err := updateScript.Run(ctx, s.c, s.webhookKeys(), id, b, place, score, must).Int64()
	if err != nil {
		return false, wrapWebhook(err)
	}
	return n == 1, nil
}

func wrapWebhook(err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("redis: webhooks: %w", err)
}

func sortByCreated(js []webhook.Job) {
	slices.SortStableFunc(js, func(a, b webhook.Job) int { return a.Created.Compare(b.Created) })
}
