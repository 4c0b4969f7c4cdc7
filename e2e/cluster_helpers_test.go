package e2e

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/dncgate/dncgate/internal/testhaproxy"
)

// Several gateway instances on one shared store, as an operator runs them
// behind a load balancer:
//
//	insts := startInstances(t, 3, up.addr, clusterTOML(redisAddrs)+more)
//	lb := behindHAProxy(t, insts)          // pools "smtp" and "web"
//	greeting, err := sendFrom(lb.Addr("smtp"), "127.0.0.2", user, rcpts, body)
//
// Instance i (from 1) greets as gwI.test, so a client through the
// balancer can tell which one answered; its log names the clients it saw.

// instance is one running gateway of a fleet.
type instance struct {
	*gateway
	name string // its hostname, in its greeting: gw1.test, gw2.test, ...
	cfg  string // its configuration file, for CLI commands against the shared store
	smtp string // its SMTP listener, which expects a PROXY header from 127.0.0.1
	web  string // its HTTP listener, which expects one too
}

// unsubBase is the public name of the unsubscribe pages every instance
// puts in its links; it stands for the balancer's web frontend, as a DNS
// name would (see linkVia).
const unsubBase = "http://unsub.acme.test"

// instanceConfig is one instance: a plain SMTP listener that refuses at
// RCPT and a web listener, both behind a balancer on loopback that sends
// PROXY headers; shared is appended (the store, [privacy], caps, ...).
func instanceConfig(dir, name, smtpAddr, web, upAddr, shared string) string {
	return fmt.Sprintf(`
[server]
hostname = %q
data_dir = %q
trusted_proxies = ["127.0.0.1"]

[[listener]]
name = "behind-lb"
address = %q
tls = "none"
allow_insecure_auth = true
on_refusal = "reject"
proxy_protocol = true

[web]
listen = %q
proxy_protocol = true

[upstream]
url = "smtp://%s"

[log]
format = "json"
level = "debug"
%s`, name, dir, smtpAddr, web, upAddr, shared)
}

// startInstances writes n configurations that share everything in shared
// (which must name one store: Redis or a cluster, and the same [privacy]
// key), creates the store with `dncgate init` once, as an operator does,
// starts every instance and adds the user rep@acme.test (password
// `password`) once. The unsubscribe keys and organisation are shared too,
// so any instance opens any link.
func startInstances(t *testing.T, n int, upAddr, shared string) []*instance {
	t.Helper()
	// One organisation for all: it would default to each one's hostname.
	shared += fmt.Sprintf("\n[unsubscribe]\nbase_url = %q\nkeys_file = %q\norg = \"acme\"\n", unsubBase, t.TempDir()+"/unsubscribe.keys")
	// init needs no listener: its configuration names unused ones, so the
	// instances' ports are picked only just before each one binds them.
	initDir := t.TempDir()
	writeConfig(t, initDir, instanceConfig(initDir, "init.test", "127.0.0.1:1", "127.0.0.1:2", upAddr, shared))
	insts := make([]*instance, n)
	for i := range insts {
		dir := t.TempDir()
		in := &instance{name: fmt.Sprintf("gw%d.test", i+1), smtp: freeAddr(t), web: freeAddr(t)}
		in.cfg = filepath.Join(dir, "dncgate.toml")
		if err := os.WriteFile(in.cfg, []byte(instanceConfig(dir, in.name, in.smtp, in.web, upAddr, shared)), 0o600); err != nil {
			t.Fatal(err)
		}
		// A listener expecting PROXY headers closes a bare probe, so
		// startGateway's dial only tells that it listens.
		in.gateway = startGateway(t, in.smtp, "--config", in.cfg)
		insts[i] = in
	}
	addUser(t, "rep@acme.test", "--config", insts[0].cfg)
	return insts
}

// behindHAProxy puts haproxy in front of the instances: pool "smtp" to
// their SMTP listeners, checked with EHLO, and pool "web" to their web
// listeners, checked with GET /readyz (the store answers).
func behindHAProxy(t *testing.T, insts []*instance) *testhaproxy.Proxy {
	t.Helper()
	smtpPool := testhaproxy.Pool{Name: "smtp", Check: "option smtpchk EHLO lb.test"}
	webPool := testhaproxy.Pool{Name: "web", Check: "option httpchk GET /readyz"}
	for _, in := range insts {
		smtpPool.Backends = append(smtpPool.Backends, in.smtp)
		webPool.Backends = append(webPool.Backends, in.web)
	}
	p := testhaproxy.Start(t, smtpPool, webPool)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("haproxy log:\n%s", p.Log())
		}
	})
	return p
}

// byName finds the instance that greeted as name.
func byName(t *testing.T, insts []*instance, greeting string) *instance {
	t.Helper()
	for _, in := range insts {
		if greetingHost(greeting) == in.name {
			return in
		}
	}
	t.Fatalf("no instance greets as %q", greeting)
	return nil
}

// greetingHost is the host a 220 greeting names: "220 gw2.test ESMTP ..."
// gives gw2.test.
func greetingHost(greeting string) string {
	f := strings.Fields(greeting)
	if len(f) < 2 {
		return ""
	}
	return f[1]
}

// dialFrom connects to addr from the loopback address from (127.0.0.2,
// ...), so that a gateway behind the balancer sees that client, and
// returns an SMTP client whose greeting() is the server's 220 line.
func dialFrom(addr, from string) (*smtp.Client, *greetingConn, error) {
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}, Timeout: 5 * time.Second}
	conn, err := d.Dial("tcp", addr)
	if err != nil {
		return nil, nil, err
	}
	gc := &greetingConn{Conn: conn}
	return smtp.NewClient(gc), gc, nil
}

// greetingConn keeps the first line the server sends.
type greetingConn struct {
	net.Conn
	mu    sync.Mutex
	first bytes.Buffer
	done  bool
}

func (g *greetingConn) Read(p []byte) (int, error) {
	n, err := g.Conn.Read(p)
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.done {
		line := p[:n]
		if i := bytes.IndexByte(line, '\n'); i >= 0 {
			line, g.done = line[:i], true
		}
		g.first.Write(line)
	}
	return n, err
}

// greeting is the server's 220 line, once the client has read it (after
// Hello, or any command).
func (g *greetingConn) greeting() string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return strings.TrimSpace(g.first.String())
}

// sendFrom sends body to rcpts as user through addr from the loopback
// address from, and returns the greeting of the instance that answered
// with the outcome (nil when the message was accepted).
func sendFrom(addr, from, user string, rcpts []string, body []byte) (string, error) {
	c, gc, err := dialFrom(addr, from)
	if err != nil {
		return "", err
	}
	defer c.Close()
	err = transact(c, user, user, rcpts, body)
	return gc.greeting(), err
}

// loginFrom tries one AUTH PLAIN as user with pass through addr from the
// loopback address from; it returns the greeting and the reply code (235
// when accepted).
func loginFrom(t *testing.T, addr, from, user, pass string) (string, int) {
	t.Helper()
	c, gc, err := dialFrom(addr, from)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Hello("client.test"); err != nil {
		t.Fatalf("EHLO through %s from %s: %v", addr, from, err)
	}
	err = c.Auth(plainAuth(user, pass))
	var se *smtp.SMTPError
	switch {
	case err == nil:
		return gc.greeting(), 235
	case asSMTPError(err, &se):
		return gc.greeting(), se.Code
	}
	t.Fatalf("AUTH through %s from %s: %v", addr, from, err)
	return "", 0
}

// replyCode is the code of err, 250 for nil, 0 when err is no SMTP reply.
func replyCode(err error) int {
	var se *smtp.SMTPError
	switch {
	case err == nil:
		return 250
	case asSMTPError(err, &se):
		return se.Code
	}
	return 0
}
