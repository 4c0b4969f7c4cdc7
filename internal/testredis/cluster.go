package testredis

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// formCluster assigns slots, introduces the nodes to each other and waits
// for every node to agree the cluster is whole. It does the same steps as
// "redis-cli --cluster create" so it does not depend on redis-cli.
func formCluster(ctx context.Context, nodes []node) error {
	clients := make([]*redis.Client, len(nodes))
	for i, n := range nodes {
		clients[i] = redis.NewClient(&redis.Options{Addr: n.addr, Protocol: 2})
		defer clients[i].Close()
	}
	if err := assignSlots(ctx, clients); err != nil {
		return err
	}
	if err := meet(ctx, clients[0], nodes[1:]); err != nil {
		return err
	}
	for i, c := range clients {
		if err := waitClusterOK(ctx, c, len(nodes)); err != nil {
			return fmt.Errorf("node %s: %w", nodes[i].addr, err)
		}
	}
	return nil
}

// assignSlots gives node i the i-th contiguous share of the slots; the last
// node takes the remainder.
func assignSlots(ctx context.Context, clients []*redis.Client) error {
	share := clusterSlots / len(clients)
	for i, c := range clients {
		lo, hi := i*share, (i+1)*share-1
		if i == len(clients)-1 {
			hi = clusterSlots - 1
		}
		if err := c.Do(ctx, "CLUSTER", "ADDSLOTSRANGE", lo, hi).Err(); err != nil {
			return fmt.Errorf("CLUSTER ADDSLOTSRANGE %d %d on %s: %w", lo, hi, c.Options().Addr, err)
		}
	}
	return nil
}

// meet introduces every other node to the first; gossip spreads the rest.
func meet(ctx context.Context, first *redis.Client, others []node) error {
	for _, n := range others {
		host, port, _ := strings.Cut(n.addr, ":")
		err := first.Do(ctx, "CLUSTER", "MEET", host, port, strconv.Itoa(n.busPort)).Err()
		if err != nil {
			return fmt.Errorf("CLUSTER MEET %s: %w", n.addr, err)
		}
	}
	return nil
}

// waitClusterOK polls CLUSTER INFO until the node knows all nodes, sees all
// slots assigned and reports cluster_state:ok, or ctx ends.
func waitClusterOK(ctx context.Context, c *redis.Client, nodes int) error {
	want := []string{
		"cluster_state:ok",
		"cluster_slots_assigned:" + strconv.Itoa(clusterSlots),
		"cluster_known_nodes:" + strconv.Itoa(nodes),
	}
	var last string
	for {
		info, err := c.ClusterInfo(ctx).Result()
		if err == nil && containsAll(info, want) {
			return nil
		}
		last = info
		if err != nil {
			last = err.Error()
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("cluster not ready (want %v); last CLUSTER INFO:\n%s", want, last)
		case <-time.After(pollInterval):
		}
	}
}

func containsAll(info string, lines []string) bool {
	for _, l := range lines {
		if !strings.Contains(info, l+"\r\n") {
			return false
		}
	}
	return true
}
