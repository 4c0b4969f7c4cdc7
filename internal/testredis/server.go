package testredis

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Server is one redis-server that a fault test stops and starts again on
// the same port and folder, with its data (Stop, then Restart) or without
// (Stop, Empty, then Restart), as an outage and a restart of the real
// server would.
type Server struct {
	t    testing.TB
	bin  string
	Addr string
	dir  string
	proc *process
}

// StartServer runs one redis-server like Start and returns it as a Server.
func StartServer(t testing.TB) *Server {
	t.Helper()
	n := startNode(t, nil)
	bin, _ := exec.LookPath("redis-server")
	return &Server{t: t, bin: bin, Addr: n.addr, dir: n.dir, proc: n.proc}
}

// dumpFile is where SHUTDOWN SAVE writes the data and a start reads it.
func (s *Server) dumpFile() string { return filepath.Join(s.dir, "dump.rdb") }

// Stop saves the data to the server's dump file and stops it (SHUTDOWN
// SAVE), as an orderly restart does; clients get connection refused until
// Restart.
func (s *Server) Stop() {
	s.t.Helper()
	c := redis.NewClient(&redis.Options{Addr: s.Addr, Protocol: 2})
	defer c.Close()
	// SHUTDOWN answers nothing when it succeeds: the connection just ends.
	_ = c.Do(context.Background(), "SHUTDOWN", "SAVE").Err()
	select {
	case <-s.proc.done:
	case <-time.After(startTimeout):
		s.t.Fatalf("testredis: %s did not stop within %s of SHUTDOWN SAVE", s.Addr, startTimeout)
	}
	if _, err := os.Stat(s.dumpFile()); err != nil {
		s.t.Fatalf("testredis: %s stopped without its dump file: %v", s.Addr, err)
	}
}

// Empty moves the dump file aside, so the next Restart comes back with
// no data, and returns a function that puts it back (call it while the
// server is stopped): the Redis restored from its dump.
func (s *Server) Empty() (putBack func()) {
	s.t.Helper()
	kept := s.dumpFile() + ".kept"
	if err := os.Rename(s.dumpFile(), kept); err != nil {
		s.t.Fatalf("testredis: %v", err)
	}
	return func() {
		if err := os.Rename(kept, s.dumpFile()); err != nil {
			s.t.Fatalf("testredis: %v", err)
		}
	}
}

// Restart starts the server again on its port and folder, loading the dump
// file when there is one, and waits until it answers PING.
func (s *Server) Restart() {
	s.t.Helper()
	_, port, _ := net.SplitHostPort(s.Addr)
	logFile := filepath.Join(s.dir, "redis.log")
	cmd := exec.Command(s.bin, "--port", port, "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", s.dir, "--logfile", logFile)
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		s.t.Fatalf("testredis: starting %s again: %v", s.bin, err)
	}
	p := &process{cmd: cmd, done: make(chan struct{})}
	go p.wait()
	if err := waitReady(s.Addr, p); err != nil {
		p.stop()
		s.t.Fatalf("testredis: %s: %v; log:\n%s", s.Addr, err, readLog(logFile))
	}
	s.proc = p
	s.t.Cleanup(p.stop)
}

// Cluster is a Redis Cluster whose masters each have one replica, so that
// a test can kill a master and see its replica take over.
type Cluster struct {
	t        testing.TB
	Masters  []string // the masters' addresses, as formed
	Replicas []string // Replicas[i] replicates Masters[i]
	procs    map[string]*process
}

// failoverNodeTimeout is the cluster-node-timeout of StartClusterWithReplicas:
// short, so that a killed master's replica is promoted within seconds.
const failoverNodeTimeout = 1000

// StartClusterWithReplicas runs masters redis-server processes and one
// replica each, in cluster mode with a cluster-node-timeout of one second,
// and waits until every replica is in sync with its master.
func StartClusterWithReplicas(t testing.TB, masters int) *Cluster {
	t.Helper()
	if masters < 3 {
		t.Fatalf("testredis: a failover needs a majority of masters left: at least 3, got %d", masters)
	}
	c := &Cluster{t: t, procs: map[string]*process{}}
	all := make([]node, 2*masters)
	for i := range all {
		all[i] = startNode(t, clusterArgs(failoverNodeTimeout))
		c.procs[all[i].addr] = all[i].proc
	}
	ms, rs := all[:masters], all[masters:]
	ctx, cancel := context.WithTimeout(context.Background(), formTimeout)
	defer cancel()
	if err := formCluster(ctx, ms); err != nil {
		t.Fatalf("testredis: forming a %d-master cluster: %v", masters, err)
	}
	first := redis.NewClient(&redis.Options{Addr: ms[0].addr, Protocol: 2})
	defer first.Close()
	if err := meet(ctx, first, rs); err != nil {
		t.Fatalf("testredis: %v", err)
	}
	for i, r := range rs {
		if err := replicate(ctx, r.addr, ms[i].addr, len(all)); err != nil {
			t.Fatalf("testredis: replica %s of %s: %v", r.addr, ms[i].addr, err)
		}
		c.Masters = append(c.Masters, ms[i].addr)
		c.Replicas = append(c.Replicas, r.addr)
	}
	return c
}

// replicate makes replica follow master once it knows every node, and
// waits until the replica reports its link to the master up.
func replicate(ctx context.Context, replica, master string, nodes int) error {
	mc := redis.NewClient(&redis.Options{Addr: master, Protocol: 2})
	defer mc.Close()
	id, err := mc.Do(ctx, "CLUSTER", "MYID").Text()
	if err != nil {
		return err
	}
	rc := redis.NewClient(&redis.Options{Addr: replica, Protocol: 2})
	defer rc.Close()
	var last error
	for {
		// CLUSTER REPLICATE needs the master known to the replica: gossip
		// may not have brought it yet.
		if last = rc.Do(ctx, "CLUSTER", "REPLICATE", id).Err(); last == nil {
			break
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("CLUSTER REPLICATE %s: %v", id, last)
		case <-time.After(pollInterval):
		}
	}
	for {
		info, err := rc.Info(ctx, "replication").Result()
		if err == nil && containsAll(info, []string{"role:slave", "master_link_status:up"}) {
			return waitClusterOK(ctx, rc, nodes)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("the replica's link to its master never came up: %s", info)
		case <-time.After(pollInterval):
		}
	}
}

// Addrs is every node, masters first: what a client is given to start.
func (c *Cluster) Addrs() []string { return append(append([]string(nil), c.Masters...), c.Replicas...) }

// KillMaster kills master i (SIGKILL, no goodbye to the cluster) and
// returns its replica's address, which the cluster promotes after
// cluster-node-timeout.
func (c *Cluster) KillMaster(i int) string {
	c.t.Helper()
	c.procs[c.Masters[i]].stop()
	return c.Replicas[i]
}

// WaitPromoted waits until node addr reports itself a master and the
// cluster state ok, or fails the test after timeout.
func (c *Cluster) WaitPromoted(addr string, timeout time.Duration) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	rc := redis.NewClient(&redis.Options{Addr: addr, Protocol: 2})
	defer rc.Close()
	var last string
	for {
		info, err := rc.Info(ctx, "replication").Result()
		state, _ := rc.ClusterInfo(ctx).Result()
		if err == nil && containsAll(info, []string{"role:master"}) && containsAll(state, []string{"cluster_state:ok"}) {
			return
		}
		last = info + state
		select {
		case <-ctx.Done():
			c.t.Fatalf("testredis: %s not promoted within %s:\n%s", addr, timeout, last)
		case <-time.After(pollInterval):
		}
	}
}
