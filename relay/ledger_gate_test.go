package relay

import (
	"context"
	"errors"
	"io"
	"net"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/dncgate/dncgate/ledger"
	"github.com/dncgate/dncgate/ledger/sqlite"
	"github.com/dncgate/dncgate/relay/upstream"
	"github.com/dncgate/dncgate/store"
)

// heldLedger is the embedded ledger with each Record held until the test
// lets it go (or fails it); committed is set once a record is durable.
type heldLedger struct {
	*sqlite.Ledger
	entered   chan struct{}
	release   chan error // nil: write the records; else fail with it
	committed atomic.Bool
}

func (h *heldLedger) Record(ctx context.Context, ds []ledger.Decision) error {
	h.entered <- struct{}{}
	if err := <-h.release; err != nil {
		return err
	}
	err := h.Ledger.Record(ctx, ds)
	h.committed.Store(err == nil)
	return err
}

// dotSink is an SMTP upstream that notes when a DATA begins and keeps a
// message only once its final dot came, with whether the ledger had
// committed by then.
type dotSink struct {
	led   *heldLedger
	began chan struct{}
	mu    sync.Mutex
	got   []bool // per message received whole: the records were durable at its dot
}

func (d *dotSink) NewSession(*smtp.Conn) (smtp.Session, error) { return dotSession{d}, nil }

type dotSession struct{ d *dotSink }

func (dotSession) Mail(string, *smtp.MailOptions) error { return nil }
func (dotSession) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (dotSession) Reset()                               {}
func (dotSession) Logout() error                        { return nil }

func (s dotSession) Data(r io.Reader) error {
	s.d.began <- struct{}{}
	if _, err := io.ReadAll(r); err != nil {
		return err // cut off before the dot: no message
	}
	s.d.mu.Lock()
	s.d.got = append(s.d.got, s.d.led.committed.Load())
	s.d.mu.Unlock()
	return nil
}

func (d *dotSink) messages() []bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]bool(nil), d.got...)
}

type noMarks struct{}

func (noMarks) Delivered(context.Context, string) (map[string]bool, error)         { return nil, nil }
func (noMarks) MarkDelivered(context.Context, string, string, time.Duration) error { return nil }

// gateRelay runs the relay with the held ledger and a real upstream
// target to a dotSink; it returns the relay's address.
func gateRelay(t *testing.T) (string, *heldLedger, *dotSink, *Server) {
	t.Helper()
	led := &heldLedger{Ledger: openLedger(t), entered: make(chan struct{}, 1), release: make(chan error, 1)}
	sink := &dotSink{led: led, began: make(chan struct{}, 1)}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	up := smtp.NewServer(sink)
	up.Domain, up.AllowInsecureAuth = "sink.test", true
	go up.Serve(ln)
	t.Cleanup(func() { up.Close() })
	spec, err := upstream.ParseURL("smtp://" + ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	target, err := upstream.NewTarget(spec, upstream.TargetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { target.Close() })
	fwd := upstream.NewForwarder(target, noMarks{}, upstream.ForwarderOptions{DigestKey: ledgerKey}, nil)
	o := Options{Hostname: "relay.test", Check: newTableCheck(), Ledger: led, LedgerKey: ledgerKey,
		Listeners: []Listener{{Name: "plain", Addr: "127.0.0.1:0",
			Trusted: []TrustedNet{{Net: netip.MustParsePrefix("127.0.0.0/8"), Identity: repEmail}}}}}
	users := &fakeUsers{users: map[string]store.User{repEmail: {Email: repEmail, Role: store.RoleRep, SendAs: []string{"rep@acme.fr"}}}}
	srv, err := New(o, users, noLogin{}, fwd, discardLog())
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve()
	t.Cleanup(func() { srv.Shutdown(context.Background()) })
	return srv.Addrs()[0].String(), led, sink, srv
}

// waitSignal fails the test when ch gives nothing for a long while: what
// it waits for would otherwise never come.
func waitSignal(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(10 * time.Second):
		t.Fatalf("no %s", what)
	}
}

// TestLedgerDurableBeforeTheDot: the message goes to the upstream while
// its records are being committed, but its final dot waits for the
// commit: the upstream holds no copy whose record was not yet durable.
func TestLedgerDurableBeforeTheDot(t *testing.T) {
	addr, led, sink, srv := gateRelay(t)
	c, err := smtp.Dial(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	sent := make(chan error, 1)
	go func() { sent <- sendOne(c, "ann@firma.fr", []byte(message("rep@acme.fr", "gate"))) }()

	waitSignal(t, led.entered, "record written")
	waitSignal(t, sink.began, "DATA at the upstream while the record is being committed")
	if got := sink.messages(); len(got) != 0 {
		t.Fatalf("the upstream has %d messages before the record was committed", len(got))
	}
	led.release <- nil
	if err := <-sent; err != nil {
		t.Fatalf("send: %v", err)
	}
	got := sink.messages()
	if len(got) != 1 || !got[0] {
		t.Fatalf("upstream messages %v, want one, received after its record was durable", got)
	}
	srv.outcomes.wait()
	page, err := led.Query(context.Background(), ledger.Query{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Decisions) != 1 || page.Decisions[0].Outcome.Kind != ledger.Sent {
		t.Fatalf("records %+v, want one, sent", page.Decisions)
	}
}

// TestLedgerCommitFailsNothingSent: when the records cannot be
// committed, the copy already under way is cut off before its dot, and
// the client gets 451 4.3.0.
func TestLedgerCommitFailsNothingSent(t *testing.T) {
	addr, led, sink, _ := gateRelay(t)
	c, err := smtp.Dial(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	sent := make(chan error, 1)
	go func() { sent <- sendOne(c, "ann@firma.fr", []byte(message("rep@acme.fr", "gate"))) }()
	waitSignal(t, led.entered, "record written")
	waitSignal(t, sink.began, "DATA at the upstream")
	led.release <- errors.New("disk I/O error")
	err = <-sent
	var se *smtp.SMTPError
	if !errors.As(err, &se) || se.Code != 451 || se.EnhancedCode != (smtp.EnhancedCode{4, 3, 0}) || !strings.Contains(se.Message, "ledger") {
		t.Fatalf("send without a record: %v, want 451 4.3.0 naming the ledger", err)
	}
	if got := sink.messages(); len(got) != 0 {
		t.Fatalf("the upstream received %d messages without a record", len(got))
	}
}
