package redisstore

import (
	"context"
	"errors"

	"github.com/redis/go-redis/v9"
)

// reloadOnFailure makes a cluster client ask the cluster for its slot map
// again as soon as a command fails without a reply from Redis (a node
// refused the connection, or it broke). Left alone, the client keeps
// sending a dead master's slots to the dead master until its periodic
// reload, some ten seconds later, long after the replica took over; with
// it the gateway's 4xx spell after a failover is about the time the
// cluster takes to promote the replica. The reload is asynchronous and
// the client coalesces reloads asked for together.
type reloadOnFailure struct{ c *redis.ClusterClient }

func (h reloadOnFailure) reloadIf(ctx context.Context, err error) {
	var re redis.Error // a reply from Redis, redis.Nil included: the node answered
	if err != nil && !errors.As(err, &re) {
		h.c.ReloadState(ctx)
	}
}

func (h reloadOnFailure) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h reloadOnFailure) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		err := next(ctx, cmd)
		h.reloadIf(ctx, err)
		return err
	}
}

func (h reloadOnFailure) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		err := next(ctx, cmds)
		h.reloadIf(ctx, err)
		return err
	}
}
