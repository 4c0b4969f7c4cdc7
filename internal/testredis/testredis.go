// Package testredis starts throwaway redis-server processes, single or as a
// Redis Cluster, for tests that must run against the real server.
package testredis

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

const (
	startAttempts = 5                // ports picked before giving up on a node
	startTimeout  = 10 * time.Second // wait for one node to answer PING
	formTimeout   = 30 * time.Second // wait for the cluster to reach cluster_state:ok
	pollInterval  = 20 * time.Millisecond
	clusterSlots  = 16384 // Redis Cluster key space, fixed by the protocol
)

// Start runs one redis-server on a free loopback port with persistence off,
// stops it when the test ends and returns its "127.0.0.1:port" address.
func Start(t testing.TB) string {
	t.Helper()
	return startNode(t, nil).addr
}

// StartCluster runs masters redis-server processes in cluster mode, gives
// each an equal share of the 16384 hash slots, joins them and waits until
// every node reports cluster_state:ok. It returns the node addresses.
func StartCluster(t testing.TB, masters int) []string {
	t.Helper()
	if masters < 1 {
		t.Fatalf("testredis: a cluster needs at least one master, got %d", masters)
	}
	nodes := make([]node, masters)
	for i := range nodes {
		nodes[i] = startNode(t, clusterArgs(5000))
	}
	ctx, cancel := context.WithTimeout(context.Background(), formTimeout)
	defer cancel()
	if err := formCluster(ctx, nodes); err != nil {
		t.Fatalf("testredis: forming a %d-node cluster: %v", masters, err)
	}
	addrs := make([]string, masters)
	for i, n := range nodes {
		addrs[i] = n.addr
	}
	return addrs
}

// node is one running redis-server.
type node struct {
	addr    string
	busPort int // cluster bus port, 0 outside cluster mode
	dir     string
	proc    *process
}

// clusterArgs adds the cluster-mode flags, with the node timeout in
// milliseconds. The bus port is given explicitly (cluster-port, Redis 7)
// rather than left at port+10000, which can fall outside the port range or
// collide with another process.
func clusterArgs(nodeTimeoutMS int) func(dir string, busPort int) []string {
	return func(dir string, busPort int) []string {
		return []string{
			"--cluster-enabled", "yes",
			"--cluster-config-file", filepath.Join(dir, "nodes.conf"),
			"--cluster-port", strconv.Itoa(busPort),
			"--cluster-node-timeout", strconv.Itoa(nodeTimeoutMS),
		}
	}
}

// startNode starts one server, retrying with fresh ports when the chosen
// one was taken between picking it and the server binding it.
func startNode(t testing.TB, extra func(dir string, busPort int) []string) node {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Fatalf("testredis: redis-server not found on PATH; install it (apt-get install -y redis-server): %v", err)
	}
	var lastErr error
	for range startAttempts {
		n, err := tryStart(t, bin, extra)
		if err == nil {
			return n
		}
		lastErr = err
	}
	t.Fatalf("testredis: redis-server did not start after %d attempts: %v", startAttempts, lastErr)
	return node{}
}

// tryStart makes one attempt. On failure the process is gone and the error
// carries the server's log.
func tryStart(t testing.TB, bin string, extra func(string, int) []string) (node, error) {
	dir := t.TempDir()
	ports, err := freePorts(2)
	if err != nil {
		return node{}, err
	}
	n := node{addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[0])), dir: dir}
	logFile := filepath.Join(dir, "redis.log")
	args := []string{
		"--port", strconv.Itoa(ports[0]), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", dir, "--logfile", logFile,
	}
	if extra != nil {
		n.busPort = ports[1]
		args = append(args, extra(dir, n.busPort)...)
	}
	cmd := exec.Command(bin, args...)
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		return node{}, fmt.Errorf("starting %s: %w", bin, err)
	}
	p := &process{cmd: cmd, done: make(chan struct{})}
	go p.wait()
	if err := waitReady(n.addr, p); err != nil {
		p.stop()
		return node{}, fmt.Errorf("%s: %w; log:\n%s", n.addr, err, readLog(logFile))
	}
	t.Cleanup(p.stop)
	n.proc = p
	return n, nil
}

// freePorts asks the kernel for k distinct free loopback ports. They are
// free only until someone else takes them, hence the retries in startNode.
func freePorts(k int) ([]int, error) {
	ports := make([]int, 0, k)
	for range k {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("finding a free port: %w", err)
		}
		defer l.Close()
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// process is a started server and the outcome of waiting for it.
type process struct {
	cmd  *exec.Cmd
	done chan struct{} // closed once the process has exited and been reaped
	err  error         // exit status, readable after done is closed
}

func (p *process) wait() {
	p.err = p.cmd.Wait()
	close(p.done)
}

// stop kills the server and reaps it. Killing an already reaped process is
// a harmless no-op (os.ErrProcessDone).
func (p *process) stop() {
	_ = p.cmd.Process.Kill()
	select {
	case <-p.done:
	case <-time.After(startTimeout):
	}
}

// waitReady polls PING until the server answers, exits, or time runs out.
func waitReady(addr string, p *process) error {
	deadline := time.Now().Add(startTimeout)
	for time.Now().Before(deadline) {
		select {
		case <-p.done:
			return fmt.Errorf("redis-server exited before answering: %v", p.err)
		default:
		}
		if ping(addr) == nil {
			return nil
		}
		time.Sleep(pollInterval)
	}
	return fmt.Errorf("no PONG within %s", startTimeout)
}

// ping speaks just enough RESP to ask PING and read the reply, so readiness
// does not depend on a client library's own retries.
func ping(addr string) error {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.SetDeadline(time.Now().Add(time.Second)); err != nil {
		return err
	}
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return err
	}
	if strings.TrimSpace(line) != "+PONG" {
		return fmt.Errorf("PING answered %q", strings.TrimSpace(line))
	}
	return nil
}

func readLog(path string) string {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return "(no log written)"
	}
	if err != nil {
		return err.Error()
	}
	return string(b)
}
