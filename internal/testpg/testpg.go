// Package testpg starts throwaway PostgreSQL servers for tests that must
// run against the real server, as testredis does for Redis. PostgreSQL
// refuses to run as root, so under root the server runs as an
// unprivileged user.
package testpg

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

const (
	startTimeout = 30 * time.Second
	pollInterval = 50 * time.Millisecond
	// runAs is the user the server runs as when the tests run as root.
	runAs = "nobody"
)

// Server is one running PostgreSQL.
type Server struct {
	t    testing.TB
	bin  string
	dir  string
	port int
	cred *syscall.Credential
	proc *exec.Cmd
	done chan struct{}
	dbs  atomic.Int64
}

// Start initialises a cluster in a temporary folder, starts it on a free
// loopback port and stops it when the test ends. It fails the test, never
// skips it, when PostgreSQL is not installed.
func Start(t testing.TB) *Server {
	t.Helper()
	bin, err := binDir()
	if err != nil {
		t.Fatalf("testpg: %v; install it (apt-get install -y postgresql, or run scripts/test-deps.sh)", err)
	}
	s := &Server{t: t, bin: bin}
	if err := s.prepare(); err != nil {
		t.Fatalf("testpg: %v", err)
	}
	t.Cleanup(func() {
		s.Stop()
		os.RemoveAll(s.dir)
	})
	if err := s.initdb(); err != nil {
		t.Fatalf("testpg: initdb: %v", err)
	}
	if s.port, err = freePort(); err != nil {
		t.Fatalf("testpg: %v", err)
	}
	s.Restart()
	return s
}

// binDir finds postgres on PATH, else in Debian's versioned folders,
// newest first.
func binDir() (string, error) {
	if p, err := exec.LookPath("postgres"); err == nil {
		return filepath.Dir(p), nil
	}
	found, _ := filepath.Glob("/usr/lib/postgresql/*/bin/postgres")
	sort.Slice(found, func(i, j int) bool { return version(found[i]) > version(found[j]) })
	if len(found) == 0 {
		return "", errors.New("postgres not found on PATH nor in /usr/lib/postgresql/*/bin")
	}
	return filepath.Dir(found[0]), nil
}

func version(bin string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(bin))))
	return n
}

// prepare makes the folder, owned by the server's user. t.TempDir is not
// used: its parents are closed to other users.
func (s *Server) prepare() error {
	dir, err := os.MkdirTemp("", "testpg-")
	if err != nil {
		return err
	}
	s.dir = dir
	if os.Geteuid() != 0 {
		return nil
	}
	u, err := user.Lookup(runAs)
	if err != nil {
		return fmt.Errorf("running as root, and no user %q to run PostgreSQL as: %w", runAs, err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	s.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	return os.Chown(dir, uid, gid)
}

func (s *Server) command(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(filepath.Join(s.bin, name), args...)
	cmd.Dir = s.dir
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: s.cred, Pdeathsig: syscall.SIGKILL}
	return cmd
}

func (s *Server) initdb() error {
	out, err := s.command("initdb", "-D", s.data(), "-U", "postgres", "-A", "trust", "-E", "UTF8",
		"--locale=C", "--no-sync").CombinedOutput()
	if err != nil {
		return fmt.Errorf("%w: %s", err, out)
	}
	return nil
}

func (s *Server) data() string { return filepath.Join(s.dir, "data") }

// Restart starts the server (again, after Stop) on its port and waits
// until it answers.
func (s *Server) Restart() {
	s.t.Helper()
	log, err := os.Create(filepath.Join(s.dir, "postgres.log"))
	if err != nil {
		s.t.Fatalf("testpg: %v", err)
	}
	defer log.Close()
	if s.cred != nil {
		os.Chown(log.Name(), int(s.cred.Uid), int(s.cred.Gid))
	}
	s.proc = s.command("postgres", "-D", s.data(), "-p", strconv.Itoa(s.port), "-k", s.dir,
		"-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "synchronous_commit=off",
		"-c", "full_page_writes=off", "-c", "max_connections=60", "-c", "shared_buffers=64MB")
	s.proc.Stdout, s.proc.Stderr = log, log
	if err := s.proc.Start(); err != nil {
		s.t.Fatalf("testpg: starting postgres: %v", err)
	}
	s.done = make(chan struct{})
	go func(p *exec.Cmd, done chan struct{}) { p.Wait(); close(done) }(s.proc, s.done)
	if err := s.waitReady(); err != nil {
		s.Stop()
		b, _ := os.ReadFile(log.Name())
		s.t.Fatalf("testpg: %v; log:\n%s", err, b)
	}
}

func (s *Server) waitReady() error {
	deadline := time.Now().Add(startTimeout)
	for time.Now().Before(deadline) {
		select {
		case <-s.done:
			return errors.New("postgres exited before accepting connections")
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		c, err := pgx.Connect(ctx, s.url("postgres"))
		if err == nil {
			c.Close(ctx)
			cancel()
			return nil
		}
		cancel()
		time.Sleep(pollInterval)
	}
	return fmt.Errorf("no connection within %s", startTimeout)
}

// Stop shuts the server down (fast: open sessions are cut), as an outage.
func (s *Server) Stop() {
	if s.proc == nil || s.proc.Process == nil {
		return
	}
	_ = s.proc.Process.Signal(syscall.SIGINT)
	select {
	case <-s.done:
	case <-time.After(startTimeout):
		_ = s.proc.Process.Kill()
		<-s.done
	}
	s.proc = nil
}

func (s *Server) url(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", s.port, db)
}

// NewDatabase creates an empty database and returns its URL.
func (s *Server) NewDatabase(t testing.TB) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	c, err := pgx.Connect(ctx, s.url("postgres"))
	if err != nil {
		t.Fatalf("testpg: %v", err)
	}
	defer c.Close(ctx)
	name := fmt.Sprintf("t%d", s.dbs.Add(1))
	if _, err := c.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("testpg: create database: %v", err)
	}
	return s.url(name)
}

// freePort asks the kernel for a free loopback port.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("finding a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
