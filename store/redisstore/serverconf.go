package redisstore

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// settingsTimeout bounds the check at start-up: a slow node delays
// nothing longer than this.
const settingsTimeout = 5 * time.Second

// NodeSettings is what one Redis master says of the two settings that
// decide whether dncgate's keys outlive memory pressure and a restart.
type NodeSettings struct {
	Node            string // host:port, as the client reaches it
	MaxmemoryPolicy string // "noeviction" keeps every key
	AppendOnly      bool   // AOF persistence
	Save            string // RDB snapshot rules; "" for none
	// Err says the settings could not be read: CONFIG refused by an ACL,
	// renamed or disabled (managed services), or the node unreachable.
	Err error
}

// ServerSettings reads maxmemory-policy, appendonly and save on every
// master (the one node outside a cluster), sorted by node. It needs
// CONFIG GET; a node that refuses it has Err set, and the others are read
// all the same.
func (s *Store) ServerSettings(ctx context.Context) []NodeSettings {
	ctx, cancel := context.WithTimeout(ctx, settingsTimeout)
	defer cancel()
	var mu sync.Mutex
	var out []NodeSettings
	collect := func(ctx context.Context, n *redis.Client) error {
		ns := readSettings(ctx, n)
		mu.Lock()
		out = append(out, ns)
		mu.Unlock()
		return nil
	}
	switch c := s.c.(type) {
	case *redis.ClusterClient:
		if err := c.ForEachMaster(ctx, collect); err != nil {
			out = append(out, NodeSettings{Node: "cluster", Err: err})
		}
	case *redis.Client:
		_ = collect(ctx, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Node < out[j].Node })
	return out
}

// readSettings asks one node. Each parameter is its own CONFIG GET, which
// Redis before 7 requires.
func readSettings(ctx context.Context, n *redis.Client) NodeSettings {
	ns := NodeSettings{Node: n.Options().Addr}
	var cmds [3]*redis.MapStringStringCmd
	_, err := n.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, param := range []string{"maxmemory-policy", "appendonly", "save"} {
			cmds[i] = p.ConfigGet(ctx, param)
		}
		return nil
	})
	if err != nil {
		ns.Err = err
		return ns
	}
	ns.MaxmemoryPolicy = cmds[0].Val()["maxmemory-policy"]
	ns.AppendOnly = cmds[1].Val()["appendonly"] == "yes"
	ns.Save = strings.TrimSpace(cmds[2].Val()["save"])
	return ns
}

// Warnings are the problems of n, one line each, naming the node and what
// to set; none when the node keeps every key and persists them.
func (n NodeSettings) Warnings() []string {
	if n.Err != nil {
		return []string{fmt.Sprintf("redis %s: could not check maxmemory-policy and persistence (%v): "+
			"allow the user CONFIG GET (ACL +config|get) for the check, and make sure yourself that the node has maxmemory-policy noeviction and appendonly yes",
			n.Node, n.Err)}
	}
	var w []string
	if n.MaxmemoryPolicy != "noeviction" {
		w = append(w, fmt.Sprintf("redis %s: maxmemory-policy is %s, which drops keys when memory is full (users, opt-outs, cap counts, delivered marks, the store's identity): set maxmemory-policy noeviction",
			n.Node, n.MaxmemoryPolicy))
	}
	if !n.AppendOnly && n.Save == "" {
		w = append(w, fmt.Sprintf("redis %s: no persistence (appendonly no, save \"\"): a restart empties the store and the gateways answer 451 until it is restored: set appendonly yes",
			n.Node))
	}
	return w
}

// ServerWarnings are the Warnings of every node.
func (s *Store) ServerWarnings(ctx context.Context) []string {
	var w []string
	for _, n := range s.ServerSettings(ctx) {
		w = append(w, n.Warnings()...)
	}
	return w
}
