package e2e

import (
	"bytes"
	"errors"
	"hash/fnv"
	"io"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// sinkFault is what the fault sink does to one recipient's transaction.
type sinkFault int

const (
	sinkPass          sinkFault = iota
	sinkTempRcpt                // 451 at RCPT
	sinkTempData                // 452 after the data, nothing stored
	sinkPermRcpt                // 550 at RCPT
	sinkDropRcpt                // the connection closed at RCPT, no answer
	sinkDropData                // the connection closed during DATA, nothing stored
	sinkSlow                    // the answer to DATA comes late
	sinkStoredNoReply           // the copy stored, then the connection closed before the 250
)

var sinkFaultNames = map[sinkFault]string{sinkTempRcpt: "4xx at RCPT", sinkTempData: "4xx after DATA",
	sinkPermRcpt: "5xx at RCPT", sinkDropRcpt: "dropped at RCPT", sinkDropData: "dropped in DATA",
	sinkSlow: "slow DATA", sinkStoredNoReply: "stored, no reply"}

// faultSink is an SMTP upstream that injects faults: plan picks the fault
// of a recipient's attempt (0 for the first transaction naming it). Copies
// go into the embedded upstream's deliveries, as the plain sink's do.
type faultSink struct {
	*upstream
	plan func(rcpt string, attempt int) sinkFault

	mu       sync.Mutex
	attempts map[string]int
	done     map[sinkFault]int // faults injected, by kind
	noReply  map[string]int    // subject+" "+rcpt → copies stored without a reply
}

func startFaultSink(t *testing.T, plan func(rcpt string, attempt int) sinkFault) *faultSink {
	t.Helper()
	s := &faultSink{upstream: &upstream{failRcpt: map[string][]*smtp.SMTPError{}}, plan: plan,
		attempts: map[string]int{}, done: map[sinkFault]int{}, noReply: map[string]int{}}
	srv := smtp.NewServer(s)
	srv.Domain = "faulty.test"
	srv.AllowInsecureAuth = true
	srv.EnableSMTPUTF8 = true
	srv.EnableDSN = true
	srv.ErrorLog = discardLogger{}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.addr = l.Addr().String()
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return s
}

// randomFaults fails about one transaction in three on a recipient's first
// two attempts, in a mix decided by the recipient's name (so a run repeats
// itself), and refuses recipients named bad-* permanently.
func randomFaults(rcpt string, attempt int) sinkFault {
	if len(rcpt) > 4 && rcpt[:4] == "bad-" {
		return sinkPermRcpt
	}
	if attempt > 1 {
		return sinkPass
	}
	h := fnv.New32a()
	io.WriteString(h, rcpt+"/"+strconv.Itoa(attempt))
	switch v := h.Sum32() % 100; {
	case v < 8:
		return sinkTempRcpt
	case v < 14:
		return sinkTempData
	case v < 19:
		return sinkDropRcpt
	case v < 24:
		return sinkDropData
	case v < 32:
		return sinkSlow
	case v < 35:
		return sinkStoredNoReply
	}
	return sinkPass
}

func (s *faultSink) NewSession(c *smtp.Conn) (smtp.Session, error) {
	return &faultSession{s: s, conn: c}, nil
}

func (s *faultSink) injected(f sinkFault) {
	s.mu.Lock()
	s.done[f]++
	s.mu.Unlock()
}

// noReplies is how many copies were stored without a reply, by subject
// and recipient.
func (s *faultSink) noReplies() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := map[string]int{}
	for k, v := range s.noReply {
		m[k] = v
	}
	return m
}

type faultSession struct {
	s     *faultSink
	conn  *smtp.Conn
	d     delivery
	fault sinkFault
}

var errDropped = errors.New("connection dropped by the fault sink")

func (f *faultSession) Mail(from string, _ *smtp.MailOptions) error {
	f.d, f.fault = delivery{From: from}, sinkPass
	return nil
}

func (f *faultSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	f.s.mu.Lock()
	n := f.s.attempts[to]
	f.s.attempts[to]++
	f.s.mu.Unlock()
	fault := f.s.plan(to, n)
	if fault != sinkPass {
		f.s.injected(fault)
	}
	switch fault {
	case sinkTempRcpt:
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try again later"}
	case sinkPermRcpt:
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}
	case sinkDropRcpt:
		f.conn.Close()
		return errDropped
	}
	// The gateway sends one transaction per recipient: one fault each.
	f.fault = fault
	f.d.To = append(f.d.To, to)
	return nil
}

func (f *faultSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	switch f.fault {
	case sinkTempData:
		return &smtp.SMTPError{Code: 452, EnhancedCode: smtp.EnhancedCode{4, 3, 1}, Message: "insufficient storage"}
	case sinkDropData:
		f.conn.Close()
		return errDropped
	case sinkSlow:
		time.Sleep(300 * time.Millisecond)
	}
	f.d.Data = bytes.Clone(b)
	f.s.upstream.mu.Lock()
	f.s.upstream.got = append(f.s.upstream.got, f.d)
	f.s.upstream.mu.Unlock()
	if f.fault == sinkStoredNoReply {
		f.s.mu.Lock()
		for _, to := range f.d.To {
			f.s.noReply[subjectOf(b)+" "+to]++
		}
		f.s.mu.Unlock()
		f.conn.Close()
		return errDropped
	}
	return nil
}

func (f *faultSession) Reset()        { f.d, f.fault = delivery{}, sinkPass }
func (f *faultSession) Logout() error { return nil }
