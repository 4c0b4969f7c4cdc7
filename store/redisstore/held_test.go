package redisstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/dncgate/dncgate/caps"
	"github.com/dncgate/dncgate/internal/testredis"
	"github.com/dncgate/dncgate/store/redisstore"
)

// Held marks and commits wait for the flush, which sends them in one round
// trip (on a cluster, one pipeline split by node).
func TestHeldWrites(t *testing.T) {
	for name, o := range map[string]redisstore.Options{
		"node":    {URL: "redis://" + testredis.Start(t)},
		"cluster": {ClusterAddrs: testredis.StartCluster(t, 3)},
	} {
		t.Run(name, func(t *testing.T) {
			s := openStore(t, o)
			ctx := t.Context()
			slots := []caps.Slot{capSlot, {Key: "other", ID: "m", Window: time.Hour, Hold: time.Minute}}
			reqs := []caps.Request{{Slot: slots[0], Limit: 5}, {Slot: slots[1], Limit: 5}}
			if _, err := s.Reserve(ctx, reqs, capEpoch); err != nil {
				t.Fatal(err)
			}
			// A send of another id on each key loads the commit script
			// wherever the keys live.
			for _, sl := range slots {
				sl.ID = "earlier"
				if err := s.Commit(ctx, []caps.Slot{sl}, capEpoch); err != nil {
					t.Fatal(err)
				}
			}
			var hook tripHook
			s.AddHook(&hook)
			hctx, flush := s.HoldWrites(ctx)
			if err := s.MarkDelivered(hctx, "msg", "r1", time.Hour); err != nil {
				t.Fatal(err)
			}
			if err := s.MarkDelivered(hctx, "sent-id:x", "sent", time.Hour); err != nil {
				t.Fatal(err)
			}
			if err := s.Commit(hctx, slots, capEpoch.Add(time.Second)); err != nil {
				t.Fatal(err)
			}
			if n := hook.n.Load(); n != 0 {
				t.Fatalf("%d round trips before the flush, want 0", n)
			}
			if got, err := s.Delivered(ctx, "msg"); err != nil || got != nil {
				t.Fatalf("Delivered before the flush = %v, %v; want nothing yet", got, err)
			}
			hook.n.Store(0)
			if err := flush(ctx); err != nil {
				t.Fatal(err)
			}
			if n := hook.n.Load(); n != 1 {
				t.Errorf("the flush took %d round trips, want 1", n)
			}
			if got, err := s.Delivered(ctx, "msg"); err != nil || !got["r1"] {
				t.Fatalf("Delivered after the flush = %v, %v", got, err)
			}
			for _, sl := range slots {
				u, err := s.Usage(ctx, sl.Key, 5, time.Hour, capEpoch.Add(2*time.Minute))
				if err != nil || u.Count != 2 {
					t.Fatalf("%s after the held commit and the hold's expiry: %+v, %v; want the two sends counted", sl.Key, u, err)
				}
			}
		})
	}
}

// A held commit that meets NOSCRIPT (after SCRIPT FLUSH or a restart) runs
// again by EVAL at the flush, and counts.
func TestHeldCommitAfterScriptFlush(t *testing.T) {
	addr := testredis.Start(t)
	s := openStore(t, redisstore.Options{URL: "redis://" + addr})
	ctx := t.Context()
	if _, err := s.Reserve(ctx, []caps.Request{{Slot: capSlot, Limit: 5}}, capEpoch); err != nil {
		t.Fatal(err)
	}
	raw := redis.NewClient(&redis.Options{Addr: addr})
	defer raw.Close()
	if err := raw.ScriptFlush(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	hctx, flush := s.HoldWrites(ctx)
	if err := s.Commit(hctx, []caps.Slot{capSlot}, capEpoch.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	if err := flush(ctx); err != nil {
		t.Fatal(err)
	}
	u, err := s.Usage(ctx, capSlot.Key, 5, time.Hour, capEpoch.Add(2*time.Minute))
	if err != nil || u.Count != 1 {
		t.Fatalf("after the hold expired: %+v, %v; want the send counted", u, err)
	}
}

// tripHook counts round trips as countHook does, leaving out the commands
// go-redis sends to set up a new connection of its pool.
type tripHook struct{ countHook }

func (h *tripHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if cmd.Name() != "hello" {
			h.n.Add(1)
		}
		return next(ctx, cmd)
	}
}

func (h *tripHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		if cmds[0].Name() != "client" {
			h.n.Add(1)
		}
		return next(ctx, cmds)
	}
}
