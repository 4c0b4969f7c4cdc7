package upstream

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// writeLog records every write the target makes on its TCP connections,
// below any TLS.
type writeLog struct {
	mu     sync.Mutex
	writes [][]byte
}

func (l *writeLog) all() [][]byte {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([][]byte(nil), l.writes...)
}

type loggedConn struct {
	net.Conn
	log *writeLog
}

func (c *loggedConn) Write(p []byte) (int, error) {
	c.log.mu.Lock()
	c.log.writes = append(c.log.writes, append([]byte(nil), p...))
	c.log.mu.Unlock()
	return c.Conn.Write(p)
}

// watchWrites makes tg's connections record their writes.
func watchWrites(t testing.TB, tg Target) *writeLog {
	t.Helper()
	st, ok := tg.(*smtpTarget)
	if !ok {
		t.Fatalf("target is %T, want *smtpTarget", tg)
	}
	l := &writeLog{}
	st.dialTCP = func(ctx context.Context, addr string) (net.Conn, error) {
		c, err := dialTCP(ctx, addr)
		if err != nil {
			return nil, err
		}
		return &loggedConn{Conn: c, log: l}, nil
	}
	return l
}

// groups returns the writes that carry MAIL, and fails unless each of them
// also carries the RCPT and ends with DATA: the whole group in one write.
func groups(t testing.TB, l *writeLog) int {
	t.Helper()
	n := 0
	for _, w := range l.all() {
		s := string(w)
		if !strings.Contains(s, "MAIL FROM:") {
			continue
		}
		n++
		if !strings.HasPrefix(s, "MAIL FROM:") || !strings.Contains(s, "\r\nRCPT TO:") || !strings.HasSuffix(s, "\r\nDATA\r\n") {
			t.Errorf("write %q is not MAIL, RCPT and DATA in one group", s)
		}
	}
	return n
}

func TestPipelinedOneWrite(t *testing.T) {
	up := startUpstream(t, nil)
	tg := newTestTarget(t, "smtp://"+up.addr, TargetOptions{})
	l := watchWrites(t, tg)
	for _, s := range []string{"one", "two", "three"} {
		if err := sendTo(tg, "ann@example.com", testBody(s)); err != nil {
			t.Fatal(err)
		}
	}
	if n := groups(t, l); n != 3 {
		t.Fatalf("%d writes carried MAIL, want 3 (one per message)", n)
	}
	// EHLO, then per message the group and the body with its dot.
	if n := len(l.all()); n != 1+3*2 {
		t.Errorf("%d writes, want 7", n)
	}
	if n := len(up.received()); n != 3 {
		t.Fatalf("upstream got %d messages, want 3", n)
	}
}

// Inside TLS the group is one TLS record: still one write on the socket.
func TestPipelinedStartTLS(t *testing.T) {
	pki := newPKI(t)
	up := startUpstream(t, nil, withStartTLS(pki.server), withAuth("gw@corp.test", "s3cret"))
	tg := newTestTarget(t, "smtp+starttls://gw%40corp.test:s3cret@"+up.addr, TargetOptions{CAFile: pki.caFile})
	l := watchWrites(t, tg)
	if err := sendTo(tg, "ann@example.com", testBody("first")); err != nil {
		t.Fatal(err)
	}
	before := len(l.all())
	if err := sendTo(tg, "bob@example.com", testBody("second")); err != nil {
		t.Fatal(err)
	}
	if n := len(l.all()) - before; n != 2 {
		t.Errorf("a message on a pooled TLS connection took %d writes, want 2 (the group, the body)", n)
	}
	got := up.received()
	if len(got) != 2 || !bytes.Equal(got[1].Body, testBody("second")) {
		t.Fatalf("upstream got %d messages: %+v", len(got), got)
	}
}

// Without PIPELINING each command waits for its reply, as before.
func TestLockStepWithoutPipelining(t *testing.T) {
	up := startScripted(t, []string{"8BITMIME"}, func(int, string, int) string { return "" })
	tg := newTestTarget(t, "smtp://"+up.addr, TargetOptions{})
	l := watchWrites(t, tg)
	if err := sendTo(tg, "ann@example.com", testBody("x")); err != nil {
		t.Fatal(err)
	}
	var cmds []string
	for _, w := range l.all() {
		cmds = append(cmds, strings.SplitN(string(w), " ", 2)[0])
	}
	if got := strings.Join(cmds[:4], " "); got != "EHLO MAIL RCPT DATA\r\n" {
		t.Fatalf("first writes = %q, want one command each", got)
	}
}

// pipelinedScript is a scripted upstream offering PIPELINING.
func pipelinedScript(t testing.TB, answer func(c int, verb string, n int) string) *scriptedUpstream {
	return startScripted(t, []string{"8BITMIME", "PIPELINING"}, answer)
}

func verbs(s *scriptedUpstream) string {
	var v []string
	for _, c := range s.commands() {
		v = append(v, strings.SplitN(c, " ", 2)[0])
	}
	return strings.Join(v, " ")
}

// A refused RCPT makes the pipelined DATA fail too; the client gets the
// RCPT's reply, and RSET closes the transaction without a new EHLO.
func TestPipelinedRefusedRcpt(t *testing.T) {
	up := pipelinedScript(t, func(_ int, verb string, n int) string {
		switch {
		case verb == "RCPT" && n == 1:
			return "550 5.1.1 no such user"
		case verb == "DATA" && n == 1:
			return "554 5.5.1 no valid recipients"
		}
		return ""
	})
	tg := newTestTarget(t, "smtp://"+up.addr, TargetOptions{})
	e := wantError(t, sendTo(tg, "bad@example.com", testBody("x")), 550, smtp.EnhancedCode{5, 1, 1}, false)
	if e.Text != "no such user" {
		t.Errorf("text = %q, want the RCPT reply's", e.Text)
	}
	if err := sendTo(tg, "ann@example.com", testBody("y")); err != nil {
		t.Fatal(err)
	}
	if got, want := verbs(up), "EHLO MAIL RCPT DATA RSET MAIL RCPT DATA"; got != want {
		t.Fatalf("commands = %s, want %s", got, want)
	}
	if got := up.received(); len(got) != 1 {
		t.Fatalf("upstream got %d bodies, want 1", len(got))
	}
}

// RFC 2920 §3.1: when DATA is accepted although the RCPT was not, the
// client sends a lone dot, and no body.
func TestPipelinedDataAcceptedAfterRefusal(t *testing.T) {
	up := pipelinedScript(t, func(_ int, verb string, n int) string {
		switch {
		case verb == "RCPT" && n == 1:
			return "451 4.2.0 mailbox busy"
		case verb == "DATA" && n == 1:
			return "354 go on" // answered, but the scripted server reads no body here
		}
		return ""
	})
	tg := newTestTarget(t, "smtp://"+up.addr, TargetOptions{})
	body := testBody("must not leave")
	wantError(t, sendTo(tg, "busy@example.com", body), 451, smtp.EnhancedCode{4, 2, 0}, true)
	if err := sendTo(tg, "ann@example.com", testBody("y")); err != nil {
		t.Fatal(err)
	}
	if got, want := verbs(up), "EHLO MAIL RCPT DATA . RSET MAIL RCPT DATA"; got != want {
		t.Fatalf("commands = %s, want %s", got, want)
	}
	for _, c := range up.commands() {
		if strings.Contains(c, "must not leave") {
			t.Fatal("the body went out although the recipient was refused")
		}
	}
}

// A 421 to the pipelined MAIL of a pooled connection: nothing was
// accepted, so a fresh connection tries again.
func TestPipelinedStale421(t *testing.T) {
	up := pipelinedScript(t, func(c int, verb string, n int) string {
		if c == 1 && verb == "MAIL" && n == 2 {
			return "421 4.4.2 idle too long"
		}
		return ""
	})
	tg := newTestTarget(t, "smtp://"+up.addr, TargetOptions{})
	for _, s := range []string{"one", "two"} {
		if err := sendTo(tg, "ann@example.com", testBody(s)); err != nil {
			t.Fatalf("send %s: %v", s, err)
		}
	}
	if n := len(up.received()); n != 2 {
		t.Fatalf("upstream got %d messages, want 2", n)
	}
}

// The pipelined MAIL and RCPT carry the same parameters as go-smtp's
// lock-step ones.
func TestPipelinedSameCommands(t *testing.T) {
	ext := []string{"8BITMIME", "SIZE 100000", "DSN", "SMTPUTF8"}
	mo := &smtp.MailOptions{UTF8: true, Return: smtp.DSNReturnHeaders, EnvelopeID: "id+1 = x"}
	rcpts := []Rcpt{
		{Addr: "ann@example.com", Opts: smtp.RcptOptions{Notify: []smtp.DSNNotify{smtp.DSNNotifyFailure, smtp.DSNNotifyDelayed},
			OriginalRecipientType: smtp.DSNAddressTypeRFC822, OriginalRecipient: "Ann+x=y@example.com"}},
		{Addr: "zoë@exämple.com", Opts: smtp.RcptOptions{OriginalRecipientType: smtp.DSNAddressTypeUTF8, OriginalRecipient: "zoë a+b@exämple.com"}},
	}
	lines := func(ext []string) []string {
		up := startScripted(t, ext, func(int, string, int) string { return "" })
		tg := newTestTarget(t, "smtp://"+up.addr, TargetOptions{})
		for _, r := range rcpts {
			if err := tg.Send(context.Background(), testFrom, mo, r, testBody("x")); err != nil {
				t.Fatal(err)
			}
		}
		var out []string
		for _, c := range up.commands() {
			if strings.HasPrefix(c, "MAIL") || strings.HasPrefix(c, "RCPT") {
				out = append(out, c)
			}
		}
		return out
	}
	lockStep := lines(ext)
	piped := lines(append(ext, "PIPELINING"))
	if len(lockStep) != 4 {
		t.Fatalf("lock-step commands = %q", lockStep)
	}
	if fmt.Sprint(piped) != fmt.Sprint(lockStep) {
		t.Fatalf("pipelined commands\n%q\ndiffer from go-smtp's\n%q", piped, lockStep)
	}
	// Without SMTPUTF8 the utf-8 ORCPT is written in ASCII (RFC 6533 §3).
	noUTF8 := &smtp.MailOptions{}
	for _, e := range [][]string{{"DSN"}, {"DSN", "PIPELINING"}} {
		up := startScripted(t, e, func(int, string, int) string { return "" })
		tg := newTestTarget(t, "smtp://"+up.addr, TargetOptions{})
		r := Rcpt{Addr: "ann@example.com", Opts: smtp.RcptOptions{OriginalRecipientType: smtp.DSNAddressTypeUTF8, OriginalRecipient: "zoë@exämple.com"}}
		if err := tg.Send(context.Background(), testFrom, noUTF8, r, testBody("x")); err != nil {
			t.Fatal(err)
		}
		want := `RCPT TO:<ann@example.com> ORCPT=UTF-8;zo\x{EB}@ex\x{E4}mple.com`
		if got := up.commands()[2]; got != want {
			t.Errorf("%v: %q, want %q", e, got, want)
		}
	}
}

// Postfix's smtp-sink announces PIPELINING; each message is one group.
func TestPipelinedSmtpSink(t *testing.T) {
	addr := startSmtpSink(t)
	tg := newTestTarget(t, "smtp://"+addr, TargetOptions{})
	l := watchWrites(t, tg)
	for i := range 5 {
		if err := sendTo(tg, fmt.Sprintf("r%d@example.com", i), testBody("sink")); err != nil {
			t.Fatal(err)
		}
	}
	if n := groups(t, l); n != 5 {
		t.Fatalf("%d writes carried MAIL, want 5", n)
	}
}

// startSmtpSink runs Postfix's smtp-sink on a free loopback port, with
// extra options (-p: no PIPELINING).
func startSmtpSink(t testing.TB, opts ...string) string {
	t.Helper()
	bin, err := exec.LookPath("smtp-sink")
	if err != nil {
		t.Fatal("smtp-sink not found (Debian package postfix; scripts/test-deps.sh installs it)")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cmd := exec.Command(bin, append(append([]string{"-u", "nobody"}, opts...), addr, "100")...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return addr
		}
	}
	t.Fatalf("smtp-sink did not listen on %s", addr)
	return ""
}

// Each recipient keeps its own upstream reply when the transactions run
// pipelined, several at once.
func TestPipelinedForwardMapsReplies(t *testing.T) {
	up := startUpstream(t, nil, withScript(map[string]action{
		"bob@example.com": failRcpt, "cid@example.com": tempRcpt, "dan@example.com": tempData}))
	tg := newTestTarget(t, "smtp://"+up.addr, TargetOptions{})
	l := watchWrites(t, tg)
	f := NewForwarder(tg, newMemDeliveries(), ForwarderOptions{DigestKey: []byte("k")}, nil)
	rcpts := []string{"ann@example.com", "bob@example.com", "cid@example.com", "dan@example.com", "eve@example.com", "fay@example.com"}
	res := f.Forward(context.Background(), envelope(rcpts...), testBody("x"))
	wantResults(t, res, rcpts, map[string]bool{"bob@example.com": true, "cid@example.com": true, "dan@example.com": true})
	wantError(t, res[1].Err, 550, smtp.EnhancedCode{5, 1, 1}, false)
	wantError(t, res[2].Err, 451, smtp.EnhancedCode{4, 2, 0}, true)
	wantError(t, res[3].Err, 451, smtp.EnhancedCode{4, 3, 0}, true)
	if n := groups(t, l); n != len(rcpts) {
		t.Errorf("%d writes carried MAIL, want %d", n, len(rcpts))
	}
	if d := up.deliveries(); len(d) != 3 || d["ann@example.com"] != 1 || d["eve@example.com"] != 1 || d["fay@example.com"] != 1 {
		t.Errorf("deliveries = %v, want ann, eve and fay once each", d)
	}
}

// Clear text after the 220 to STARTTLS could have been injected on the
// path (RFC 3207 §5): the connection is refused, nothing is sent.
func TestStartTLSInjection(t *testing.T) {
	up := startScripted(t, []string{"STARTTLS", "PIPELINING"}, func(_ int, verb string, _ int) string {
		if verb == "STARTTLS" {
			return "220 go ahead\r\n250 injected"
		}
		return ""
	})
	tg := newTestTarget(t, "smtp+starttls://"+up.addr, TargetOptions{InsecureSkipVerify: true})
	err := sendTo(tg, "ann@example.com", testBody("x"))
	e := wantError(t, err, 451, smtp.EnhancedCode{4, 4, 1}, true)
	if !strings.Contains(e.Cause.Error(), "clear text after STARTTLS") {
		t.Errorf("cause = %v", e.Cause)
	}
	if got := verbs(up); got != "EHLO STARTTLS" {
		t.Errorf("commands = %s, want EHLO STARTTLS only", got)
	}
}

// BenchmarkPipelining sends 4 KB one-recipient messages on one pooled
// connection to smtp-sink announcing PIPELINING and to one that does not
// (-p), in alternating rounds of the same run, and reports each one's
// microseconds per message and their ratio.
func BenchmarkPipelining(b *testing.B) {
	body := append([]byte("Subject: bench\r\n\r\n"), bytes.Repeat([]byte("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcd\r\n"), 64)...)
	targets := map[string]Target{
		"pipelined": newTestTarget(b, "smtp://"+startSmtpSink(b), TargetOptions{}),
		"lockstep":  newTestTarget(b, "smtp://"+startSmtpSink(b, "-p"), TargetOptions{}),
	}
	took := map[string]time.Duration{}
	const round = 50
	sent := 0
	for b.Loop() {
		for _, name := range []string{"pipelined", "lockstep"} {
			start := time.Now()
			for range round {
				if err := sendTo(targets[name], "ann@example.com", body); err != nil {
					b.Fatal(err)
				}
			}
			took[name] += time.Since(start)
		}
		sent += round
	}
	p := float64(took["pipelined"].Microseconds()) / float64(sent)
	l := float64(took["lockstep"].Microseconds()) / float64(sent)
	b.ReportMetric(p, "pipelined-µs/msg")
	b.ReportMetric(l, "lockstep-µs/msg")
	b.ReportMetric(p/l, "pipelined/lockstep")
}
