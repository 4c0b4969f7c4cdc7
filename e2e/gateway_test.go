// Package e2e runs the real dncgate binary against real clients (go-smtp's
// client and swaks), a real SMTP upstream and real stores.
package e2e

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "dncgate-e2e")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "dncgate")
	build := exec.Command("go", "build", "-o", binary, "../cmd/dncgate")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building dncgate:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// freeAddr returns a loopback address nobody listens on right now.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// syncBuffer collects a child's output safely while it runs.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// gateway is a running `dncgate serve`.
type gateway struct {
	cmd  *exec.Cmd
	addr string
	log  *syncBuffer
	done chan error
}

// startGateway runs `dncgate serve` with args and waits until addr listens.
func startGateway(t *testing.T, addr string, args ...string) *gateway {
	t.Helper()
	g := &gateway{addr: addr, log: &syncBuffer{}, done: make(chan error, 1)}
	g.cmd = exec.Command(binary, append([]string{"serve"}, args...)...)
	g.cmd.Stdout, g.cmd.Stderr = g.log, g.log
	if err := g.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { g.done <- g.cmd.Wait() }()
	t.Cleanup(func() {
		g.cmd.Process.Kill()
		<-g.done
		if t.Failed() {
			t.Logf("dncgate log:\n%s", g.log.String())
		}
	})
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-g.done:
			g.done <- err
			t.Fatalf("dncgate serve exited early (%v):\n%s", err, g.log.String())
		default:
		}
		if c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond); err == nil {
			c.Close()
			return g
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("dncgate serve did not listen on %s:\n%s", addr, g.log.String())
	return nil
}

// stop sends SIGTERM and returns the exit error once the process ended.
func (g *gateway) stop(t *testing.T) error {
	t.Helper()
	g.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-g.done:
		g.done <- err
		return err
	case <-time.After(20 * time.Second):
		t.Fatal("dncgate did not stop within 20s of SIGTERM")
		return nil
	}
}

// cli runs a dncgate command and returns its combined output and exit code.
func cli(t *testing.T, stdin string, args ...string) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("dncgate %s: %v", strings.Join(args, " "), err)
	}
	return string(out), code
}

// mustCLI runs a dncgate command that must succeed.
func mustCLI(t *testing.T, stdin string, args ...string) string {
	t.Helper()
	out, code := cli(t, stdin, args...)
	if code != 0 {
		t.Fatalf("dncgate %s: exit %d:\n%s", strings.Join(args, " "), code, out)
	}
	return out
}

// swaks runs the real swaks client and returns its transcript and exit code.
func swaks(t *testing.T, args ...string) (string, int) {
	t.Helper()
	path, err := exec.LookPath("swaks")
	if err != nil {
		t.Fatal("swaks is not installed: run scripts/test-deps.sh (apt-get install swaks)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, path, append([]string{"--timeout", "30"}, args...)...).CombinedOutput()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return string(out), code
}

// writeConfig writes a TOML file into dir, creates (or, for a shared
// Redis, checks) its store with `dncgate init` as an operator does first,
// and returns the file's path.
func writeConfig(t *testing.T, dir, text string) string {
	t.Helper()
	p := filepath.Join(dir, "dncgate.toml")
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	mustCLI(t, "", "init", "--config", p)
	return p
}
