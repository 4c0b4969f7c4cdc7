package e2e

import (
	"bytes"
	"io"
	"net"
	"sync"
	"testing"

	"github.com/emersion/go-smtp"
)

// delivery is one message as the test upstream received it.
type delivery struct {
	From string
	To   []string
	Data []byte
}

// upstream is a real SMTP server standing in for the company's mail server.
// failRcpt makes it answer a chosen recipient with a chosen error, once per
// entry, so tests can script partial failures.
type upstream struct {
	addr string

	mu        sync.Mutex
	got       []delivery
	failRcpt  map[string][]*smtp.SMTPError
	onDeliver func()
}

func startUpstream(t *testing.T) *upstream {
	t.Helper()
	u := &upstream{failRcpt: map[string][]*smtp.SMTPError{}}
	srv := smtp.NewServer(u)
	srv.Domain = "upstream.test"
	srv.AllowInsecureAuth = true
	srv.EnableSMTPUTF8 = true
	srv.EnableDSN = true
	srv.ErrorLog = discardLogger{}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	u.addr = l.Addr().String()
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return u
}

// failNext makes the next RCPT of addr fail with e.
func (u *upstream) failNext(addr string, e *smtp.SMTPError) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.failRcpt[addr] = append(u.failRcpt[addr], e)
}

func (u *upstream) deliveries() []delivery {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]delivery(nil), u.got...)
}

// count returns how many copies each recipient received.
func (u *upstream) count() map[string]int {
	n := map[string]int{}
	for _, d := range u.deliveries() {
		for _, to := range d.To {
			n[to]++
		}
	}
	return n
}

func (u *upstream) NewSession(*smtp.Conn) (smtp.Session, error) { return &upSession{u: u}, nil }

type upSession struct {
	u *upstream
	d delivery
}

func (s *upSession) Mail(from string, _ *smtp.MailOptions) error {
	s.d = delivery{From: from}
	return nil
}

func (s *upSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.u.mu.Lock()
	defer s.u.mu.Unlock()
	if errs := s.u.failRcpt[to]; len(errs) > 0 {
		s.u.failRcpt[to] = errs[1:]
		return errs[0]
	}
	s.d.To = append(s.d.To, to)
	return nil
}

func (s *upSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.d.Data = bytes.Clone(b)
	s.u.mu.Lock()
	s.u.got = append(s.u.got, s.d)
	s.u.mu.Unlock()
	return nil
}

func (s *upSession) Reset()        { s.d = delivery{} }
func (s *upSession) Logout() error { return nil }

type discardLogger struct{}

func (discardLogger) Printf(string, ...any) {}
func (discardLogger) Println(...any)        {}
