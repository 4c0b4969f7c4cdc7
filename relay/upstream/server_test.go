package upstream

import (
	"crypto/tls"
	"errors"
	"io"
	"log"
	"net"
	"net/textproto"
	"strings"
	"sync"
	"testing"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// action is what the test upstream does for a recipient.
type action int

const (
	accept   action = iota
	tempRcpt        // 451 at RCPT
	failRcpt        // 550 at RCPT
	tempData        // 451 after the body
	dropData        // close the connection in the middle of DATA
	slowData        // never answer the final dot (until the test ends)
)

var (
	errTempRcpt = &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 2, 0}, Message: "mailbox busy"}
	errFailRcpt = &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}
	errTempData = &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "queue full"}
)

// received is one message the test upstream accepted.
type received struct {
	From     string
	MailOpts smtp.MailOptions
	Rcpts    []string
	RcptOpts []smtp.RcptOptions
	Body     []byte
}

// testUpstream is a real go-smtp server on 127.0.0.1:0 that records what it
// accepts and answers each recipient as scripted.
type testUpstream struct {
	addr    string
	srv     *smtp.Server
	user    string
	pass    string
	release chan struct{}
	discard bool // count messages without keeping them

	mu     sync.Mutex
	count  int
	script map[string]action
	msgs   []received
	conns  []net.Conn
}

type upstreamOpt func(*testUpstream)

// withStartTLS offers STARTTLS with cfg.
func withStartTLS(cfg *tls.Config) upstreamOpt {
	return func(u *testUpstream) { u.srv.TLSConfig = cfg }
}

// withAuth requires AUTH PLAIN with these credentials before MAIL.
func withAuth(user, pass string) upstreamOpt {
	return func(u *testUpstream) { u.user, u.pass = user, pass }
}

// withScript sets the action per recipient; others are accepted.
func withScript(s map[string]action) upstreamOpt {
	return func(u *testUpstream) { u.setScript(s) }
}

// withDiscard keeps no message, only the count, for benchmarks.
func withDiscard() upstreamOpt {
	return func(u *testUpstream) { u.discard = true }
}

// withServer adjusts the go-smtp server (extensions and such).
func withServer(f func(*smtp.Server)) upstreamOpt {
	return func(u *testUpstream) { f(u.srv) }
}

// startUpstream runs a test upstream; implicit wraps the listener in TLS.
func startUpstream(t testing.TB, implicit *tls.Config, opts ...upstreamOpt) *testUpstream {
	t.Helper()
	u := &testUpstream{release: make(chan struct{}), script: map[string]action{}}
	u.srv = smtp.NewServer(smtp.BackendFunc(u.newSession))
	u.srv.Domain = "upstream.test"
	u.srv.EnableDSN = true
	u.srv.EnableSMTPUTF8 = true
	u.srv.ErrorLog = log.New(io.Discard, "", 0)
	for _, o := range opts {
		o(u)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	u.addr = ln.Addr().String()
	var l net.Listener = &countingListener{Listener: ln, up: u}
	if implicit != nil {
		l = tls.NewListener(l, implicit)
	}
	go u.srv.Serve(l)
	t.Cleanup(func() {
		close(u.release)
		u.srv.Close()
	})
	return u
}

func (u *testUpstream) setScript(s map[string]action) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.script = s
}

func (u *testUpstream) actionFor(rcpt string) action {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.script[rcpt]
}

// received returns a copy of the accepted messages.
func (u *testUpstream) received() []received {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]received(nil), u.msgs...)
}

// connCount is how many TCP connections the upstream accepted.
func (u *testUpstream) connCount() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return len(u.conns)
}

// dropAll closes every connection from the server side, as an upstream
// does with idle clients.
func (u *testUpstream) dropAll() {
	u.mu.Lock()
	defer u.mu.Unlock()
	for _, c := range u.conns {
		c.Close()
	}
}

// deliveries counts accepted messages per recipient.
func (u *testUpstream) deliveries() map[string]int {
	n := map[string]int{}
	for _, m := range u.received() {
		for _, r := range m.Rcpts {
			n[r]++
		}
	}
	return n
}

type countingListener struct {
	net.Listener
	up *testUpstream
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.up.mu.Lock()
		l.up.conns = append(l.up.conns, c)
		l.up.mu.Unlock()
	}
	return c, err
}

func (u *testUpstream) newSession(c *smtp.Conn) (smtp.Session, error) {
	return &upSession{up: u, conn: c}, nil
}

type upSession struct {
	up     *testUpstream
	conn   *smtp.Conn
	authed bool
	cur    received
}

func (s *upSession) AuthMechanisms() []string {
	if s.up.user == "" {
		return nil
	}
	return []string{sasl.Plain}
}

func (s *upSession) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if user != s.up.user || pass != s.up.pass {
			return smtp.ErrAuthFailed
		}
		s.authed = true
		return nil
	}), nil
}

func (s *upSession) Mail(from string, opts *smtp.MailOptions) error {
	if s.up.user != "" && !s.authed {
		return smtp.ErrAuthRequired
	}
	s.cur = received{From: from}
	if opts != nil {
		s.cur.MailOpts = *opts
	}
	return nil
}

func (s *upSession) Rcpt(to string, opts *smtp.RcptOptions) error {
	switch s.up.actionFor(to) {
	case tempRcpt:
		return errTempRcpt
	case failRcpt:
		return errFailRcpt
	}
	s.cur.Rcpts = append(s.cur.Rcpts, to)
	if opts != nil {
		s.cur.RcptOpts = append(s.cur.RcptOpts, *opts)
	}
	return nil
}

func (s *upSession) Data(r io.Reader) error {
	switch s.up.actionFor(s.cur.Rcpts[0]) {
	case dropData:
		io.ReadFull(r, make([]byte, 16))
		s.conn.Conn().Close()
		return errors.New("dropped")
	case slowData:
		io.ReadAll(r)
		<-s.up.release
		return nil
	case tempData:
		io.ReadAll(r)
		return errTempData
	}
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.cur.Body = b
	s.up.mu.Lock()
	s.up.count++
	if !s.up.discard {
		s.up.msgs = append(s.up.msgs, s.cur)
	}
	s.up.mu.Unlock()
	return nil
}

func (s *upSession) Reset()        { s.cur = received{} }
func (s *upSession) Logout() error { return nil }

// scriptedUpstream speaks SMTP from a table, for what go-smtp's server
// cannot imitate: no 8BITMIME, a 421 on a pooled connection. It records
// every command line and the bodies it accepted.
type scriptedUpstream struct {
	addr string
	ext  []string // EHLO extension lines
	// answer overrides the reply to the nth (from 1) command verb on the
	// cth connection (from 1); "" keeps the default. A 421 closes the
	// connection.
	answer func(c int, verb string, n int) string

	mu     sync.Mutex
	conns  int
	cmds   []string
	bodies []string
}

func startScripted(t testing.TB, ext []string, answer func(c int, verb string, n int) string) *scriptedUpstream {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &scriptedUpstream{addr: ln.Addr().String(), ext: ext, answer: answer}
	go s.serve(ln)
	t.Cleanup(func() { ln.Close() })
	return s
}

func (s *scriptedUpstream) serve(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		s.conns++
		n := s.conns
		s.mu.Unlock()
		go s.talk(c, n)
	}
}

func (s *scriptedUpstream) talk(nc net.Conn, connNo int) {
	defer nc.Close()
	c := newLineConn(nc)
	c.reply("220 scripted ESMTP")
	seen := map[string]int{}
	for {
		line, err := c.ReadLine()
		if err != nil {
			return
		}
		s.record(line)
		verb := strings.ToUpper(strings.SplitN(line, " ", 2)[0])
		seen[verb]++
		if r := s.answer(connNo, verb, seen[verb]); r != "" {
			c.reply(r)
			if strings.HasPrefix(r, "421") {
				return
			}
			continue
		}
		if !s.standard(c, verb) {
			return
		}
	}
}

// standard gives the usual reply to verb; false ends the connection.
func (s *scriptedUpstream) standard(c lineConn, verb string) bool {
	switch verb {
	case "EHLO":
		lines := []string{"250 scripted"}
		for _, e := range s.ext {
			lines = append(lines, "250 "+e)
		}
		c.reply(lines...)
	case "DATA":
		c.reply("354 go on")
		b, _ := io.ReadAll(c.DotReader())
		s.mu.Lock()
		s.bodies = append(s.bodies, string(b))
		s.mu.Unlock()
		c.reply("250 2.0.0 queued")
	case "QUIT":
		c.reply("221 bye")
		return false
	default:
		c.reply("250 2.0.0 ok")
	}
	return true
}

func (s *scriptedUpstream) record(line string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cmds = append(s.cmds, line)
}

func (s *scriptedUpstream) commands() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.cmds...)
}

func (s *scriptedUpstream) received() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.bodies...)
}

// lineConn writes SMTP replies on a textproto connection.
type lineConn struct{ *textproto.Conn }

func newLineConn(c net.Conn) lineConn { return lineConn{textproto.NewConn(c)} }

// reply writes "CODE text" lines, turning all but the last into "CODE-text"
// (RFC 5321 §4.2.1).
func (c lineConn) reply(lines ...string) {
	for i, l := range lines {
		if i < len(lines)-1 && len(l) > 3 {
			l = l[:3] + "-" + l[4:]
		}
		c.PrintfLine("%s", l)
	}
}
