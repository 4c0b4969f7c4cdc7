// Package testhaproxy starts a throwaway haproxy in TCP mode in front of
// test servers, sending each a PROXY protocol v2 header, for tests of
// several instances behind a real load balancer.
package testhaproxy

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"text/template"
	"time"
)

const (
	startAttempts = 5                // port sets picked before giving up
	startTimeout  = 10 * time.Second // wait for every frontend to accept
	stopTimeout   = 10 * time.Second
	pollInterval  = 20 * time.Millisecond
)

// Pool is one balanced service: a frontend on a free loopback port that
// spreads connections round robin over Backends ("host:port" each).
type Pool struct {
	Name     string // names the frontend and backend in the config and the log
	Backends []string
	// Check is the health check's haproxy option, "option smtpchk EHLO
	// lb.test" or "option httpchk GET /readyz"; empty, a TCP connect.
	Check string
}

// Proxy is a running haproxy.
type Proxy struct {
	fronts  map[string]string // pool name -> frontend address
	dir     string
	sockDir string // short, for the admin socket: a socket path is at most 108 bytes
	logPath string
}

// Start runs haproxy with one frontend per pool, stops it when the test
// ends and returns it once every frontend accepts connections. A missing
// haproxy fails the test: install it (scripts/test-deps.sh).
func Start(t testing.TB, pools ...Pool) *Proxy {
	t.Helper()
	bin, err := exec.LookPath("haproxy")
	if err != nil {
		t.Fatalf("testhaproxy: haproxy not found on PATH; install it (scripts/test-deps.sh, or apt-get install -y haproxy): %v", err)
	}
	if err := checkPools(pools); err != nil {
		t.Fatalf("testhaproxy: %v", err)
	}
	var lastErr error
	for range startAttempts {
		p, err := tryStart(t, bin, pools)
		if err == nil {
			return p
		}
		lastErr = err
	}
	t.Fatalf("testhaproxy: haproxy did not start after %d attempts: %v", startAttempts, lastErr)
	return nil
}

// Addr is the frontend address of the pool named name.
func (p *Proxy) Addr(name string) string {
	a, ok := p.fronts[name]
	if !ok {
		panic("testhaproxy: no pool named " + strconv.Quote(name))
	}
	return a
}

// Config is the configuration haproxy runs with.
func (p *Proxy) Config() string { return readFile(filepath.Join(p.dir, "haproxy.cfg")) }

// Log is what haproxy has logged so far: one line per connection (client,
// frontend, backend server, bytes), and its warnings.
func (p *Proxy) Log() string { return readFile(p.logPath) }

func checkPools(pools []Pool) error {
	if len(pools) == 0 {
		return errors.New("no pool given")
	}
	seen := map[string]bool{}
	for i, pl := range pools {
		switch {
		case pl.Name == "" || strings.ContainsAny(pl.Name, " \t\n#"):
			return fmt.Errorf("pool %d: name %q must be one word", i, pl.Name)
		case seen[pl.Name]:
			return fmt.Errorf("pool %q given twice", pl.Name)
		case len(pl.Backends) == 0:
			return fmt.Errorf("pool %q has no backend", pl.Name)
		case strings.ContainsAny(pl.Check, "\n"):
			return fmt.Errorf("pool %q: check %q must be one line", pl.Name, pl.Check)
		}
		seen[pl.Name] = true
	}
	return nil
}

// tryStart makes one attempt on fresh ports. On failure haproxy is gone
// and the error carries its log.
func tryStart(t testing.TB, bin string, pools []Pool) (*Proxy, error) {
	p := &Proxy{fronts: map[string]string{}, dir: t.TempDir()}
	sockDir, err := os.MkdirTemp("", "haproxy")
	if err != nil {
		return nil, err
	}
	t.Cleanup(func() { os.RemoveAll(sockDir) })
	p.sockDir = sockDir
	p.logPath = filepath.Join(p.dir, "haproxy.log")
	ports, err := freePorts(len(pools))
	if err != nil {
		return nil, err
	}
	for i, pl := range pools {
		p.fronts[pl.Name] = net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[i]))
	}
	cfgPath := filepath.Join(p.dir, "haproxy.cfg")
	if err := os.WriteFile(cfgPath, []byte(render(pools, p.fronts, p.socket())), 0o600); err != nil {
		return nil, err
	}
	logFile, err := os.Create(p.logPath)
	if err != nil {
		return nil, err
	}
	defer logFile.Close()
	// -db: stay in the foreground, logging to stderr as the config says.
	cmd := exec.Command(bin, "-db", "-f", cfgPath)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", bin, err)
	}
	done := make(chan struct{})
	var exitErr error
	go func() { exitErr = cmd.Wait(); close(done) }()
	stop := func() {
		_ = cmd.Process.Kill()
		select {
		case <-done:
		case <-time.After(stopTimeout):
		}
	}
	if err := p.waitReady(done); err != nil {
		stop()
		return nil, fmt.Errorf("%w (exit: %v); log:\n%s", err, exitErr, p.Log())
	}
	t.Cleanup(stop)
	return p, nil
}

// socket is haproxy's admin socket.
func (p *Proxy) socket() string { return filepath.Join(p.sockDir, "admin.sock") }

// waitReady asks the admin socket until haproxy answers, exits, or time
// runs out. haproxy binds every frontend before it serves the socket, so
// an answer means they all accept; dialling a frontend instead would send
// a connection of its own to a backend and take a turn of the round robin.
func (p *Proxy) waitReady(done <-chan struct{}) error {
	deadline := time.Now().Add(startTimeout)
	for {
		select {
		case <-done:
			return errors.New("haproxy exited before listening")
		default:
		}
		if p.answers() {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("haproxy did not answer on %s within %s", p.socket(), startTimeout)
		}
		time.Sleep(pollInterval)
	}
}

// answers reports whether "show info" on the admin socket names haproxy.
func (p *Proxy) answers() bool {
	c, err := net.DialTimeout("unix", p.socket(), 200*time.Millisecond)
	if err != nil {
		return false
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte("show info\n")); err != nil {
		return false
	}
	b, _ := io.ReadAll(c)
	return strings.Contains(string(b), "Name: HAProxy")
}

// configTemplate is TCP mode throughout: haproxy passes the bytes and
// tells each backend who the client is with a PROXY v2 header. Health
// checks run every second and announce themselves with a LOCAL header
// (check-send-proxy), so a stopped backend leaves the rotation after two
// failed checks and comes back after one good one.
var configTemplate = template.Must(template.New("haproxy.cfg").Parse(`global
    log stderr format raw local0 info
    maxconn 2000
    stats socket {{.Socket}} mode 600 level admin

defaults
    mode tcp
    log global
    option tcplog
    option redispatch
    retries 2
    timeout connect 5s
    timeout client 5m
    timeout server 5m
    timeout check 2s
{{range .Pools}}
frontend {{.Name}}
    bind {{.Front}}
    default_backend {{.Name}}

backend {{.Name}}
    balance roundrobin
{{- if .Check}}
    {{.Check}}{{end}}
{{- $name := .Name}}{{range $i, $b := .Backends}}
    server {{$name}}{{$i}} {{$b}} send-proxy-v2 check check-send-proxy inter 1s fall 2 rise 1{{end}}
{{end}}`))

type renderPool struct {
	Pool
	Front string
}

func render(pools []Pool, fronts map[string]string, socket string) string {
	rs := make([]renderPool, len(pools))
	for i, pl := range pools {
		rs[i] = renderPool{Pool: pl, Front: fronts[pl.Name]}
	}
	var b strings.Builder
	if err := configTemplate.Execute(&b, struct {
		Socket string
		Pools  []renderPool
	}{socket, rs}); err != nil {
		panic(err) // the template and its data are ours
	}
	return b.String()
}

// freePorts asks the kernel for k distinct free loopback ports. They are
// free only until someone else takes them, hence the retries in Start.
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

func readFile(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	return string(b)
}
