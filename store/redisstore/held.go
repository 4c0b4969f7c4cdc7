package redisstore

import (
	"context"
	"fmt"
	"sync"

	"github.com/redis/go-redis/v9"
)

// HoldWrites returns a context under which the writes that answer nothing
// but an error, the delivered marks and the caps' commits, are held back,
// and the function that sends every held write in one pipeline: one round
// trip where they would each cost one (on a cluster, one per node, sent in
// parallel). A held write reports no error of its own; flush returns the
// first, with the number of others. Writes made under the context after its flush are sent at once.
// On a single node a held commit leaves the commit batcher, whose purpose,
// sharing a round trip, the pipeline serves.
func (s *Store) HoldWrites(ctx context.Context) (context.Context, func(context.Context) error) {
	h := &heldWrites{s: s}
	return context.WithValue(ctx, heldKey{}, h), h.flush
}

type heldKey struct{}

// heldWrites are the writes queued under one HoldWrites context.
type heldWrites struct {
	s       *Store
	mu      sync.Mutex
	flushed bool
	plain   []func(ctx context.Context, p redis.Pipeliner)
	scripts []heldScript
}

// heldScript is one script run, kept so that a NOSCRIPT answer can run it
// again by EVAL.
type heldScript struct {
	script *redis.Script
	call   scriptCall
}

// held returns the queue ctx holds for s, or nil to write at once.
func (s *Store) held(ctx context.Context) *heldWrites {
	h, _ := ctx.Value(heldKey{}).(*heldWrites)
	if h == nil || h.s != s {
		return nil
	}
	return h
}

// add queues commands; false when the queue was flushed already.
func (h *heldWrites) add(f func(ctx context.Context, p redis.Pipeliner)) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.flushed {
		return false
	}
	h.plain = append(h.plain, f)
	return true
}

func (h *heldWrites) addScripts(script *redis.Script, calls []scriptCall) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.flushed {
		return false
	}
	for _, c := range calls {
		h.scripts = append(h.scripts, heldScript{script, c})
	}
	return true
}

func (h *heldWrites) flush(ctx context.Context) error {
	h.mu.Lock()
	plain, scripts := h.plain, h.scripts
	h.plain, h.scripts, h.flushed = nil, nil, true
	h.mu.Unlock()
	if len(plain)+len(scripts) == 0 {
		return nil
	}
	runs := make([]*redis.Cmd, len(scripts))
	cmds, _ := h.s.c.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, f := range plain {
			f(ctx, p)
		}
		for i, sc := range scripts {
			runs[i] = sc.script.EvalSha(ctx, p, sc.call.keys, sc.call.args...)
		}
		return nil
	})
	var errs []error
	for _, c := range cmds {
		if err := c.Err(); err != nil && !redis.HasErrorPrefix(err, "NOSCRIPT") {
			errs = append(errs, err)
		}
	}
	// A NOSCRIPT call did not run: running it again cannot apply it twice.
	for i, r := range runs {
		if redis.HasErrorPrefix(r.Err(), "NOSCRIPT") {
			sc := scripts[i]
			errs = append(errs, sc.script.Eval(ctx, h.s.c, sc.call.keys, sc.call.args...).Err())
		}
	}
	var failed []error
	for _, err := range errs {
		if err != nil {
			failed = append(failed, err)
		}
	}
	switch len(failed) {
	case 0:
		return nil
	case 1:
		return fmt.Errorf("redisstore: held writes: %w", failed[0])
	}
	return fmt.Errorf("redisstore: held writes: %w (and %d more)", failed[0], len(failed)-1)
}
