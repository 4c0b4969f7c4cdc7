package e2e

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// faultLoad is several SMTP clients sending, each in its own session,
// message after message to two new recipients (a-… and b-…) and one of the
// opted-out ones, as a mail client would: a message answered 4xx (at RCPT,
// at DATA, or a connection lost) is sent again, the same bytes, until it
// gets 250 or the load stops; one answered 5xx is given up.
type faultLoad struct {
	addrs    []string // gateways; session w goes to addrs[w%len]
	optedOut []string
	extra    func(w, n int) []string // more recipients for message n of session w
	dial     func(addr string) (*smtp.Client, error)

	stop     atomic.Bool
	wg       sync.WaitGroup
	sent     atomic.Int64 // messages begun
	ok       atomic.Int64 // messages answered 250
	tempfail atomic.Int64 // attempts answered 4xx or cut off
	permfail atomic.Int64 // messages given up on a 5xx

	mu    sync.Mutex
	acked map[string][]string // subject → the recipients its 250 stands for
	tried map[string]bool     // every recipient offered
	wins  []attempt           // the attempts answered 250
}

// attempt is one try at a message: from its MAIL to its reply.
type attempt struct{ begun, answered time.Time }

// startLoad starts sessions clients on addrs; tag makes the subjects and
// recipients this load's own; extra (may be nil) adds recipients.
func startLoad(t *testing.T, tag string, addrs []string, sessions int, optedOut []string, extra func(w, n int) []string) *faultLoad {
	l := newLoad(addrs, optedOut, extra)
	l.start(t, tag, sessions)
	return l
}

func newLoad(addrs, optedOut []string, extra func(w, n int) []string) *faultLoad {
	return &faultLoad{addrs: addrs, optedOut: optedOut, extra: extra, dial: login, acked: map[string][]string{}, tried: map[string]bool{}}
}

func (l *faultLoad) start(t *testing.T, tag string, sessions int) {
	for w := range sessions {
		l.wg.Add(1)
		go l.session(t, tag, w)
	}
}

func (l *faultLoad) session(t *testing.T, tag string, w int) {
	defer l.wg.Done()
	addr := l.addrs[w%len(l.addrs)]
	var c *smtp.Client
	defer func() {
		if c != nil {
			c.Close()
		}
	}()
	for n := 0; !l.stop.Load(); n++ {
		subject := fmt.Sprintf("%s-w%d-%d", tag, w, n)
		rcpts := []string{fmt.Sprintf("a-%s-%d-%d@prospect.test", tag, w, n), fmt.Sprintf("b-%s-%d-%d@prospect.test", tag, w, n)}
		if l.extra != nil {
			rcpts = append(rcpts, l.extra(w, n)...)
		}
		if len(l.optedOut) > 0 {
			rcpts = append(rcpts, l.optedOut[n%len(l.optedOut)])
		}
		l.mu.Lock()
		for _, r := range rcpts {
			l.tried[r] = true
		}
		l.mu.Unlock()
		l.sent.Add(1)
		for !l.stop.Load() {
			if c == nil {
				var err error
				if c, err = l.dial(addr); err != nil {
					c = nil
					time.Sleep(50 * time.Millisecond)
					continue
				}
			}
			begun := time.Now()
			got, code, err := sendOnce(c, subject, rcpts)
			if err == nil {
				l.ok.Add(1)
				l.mu.Lock()
				l.acked[subject] = got
				l.wins = append(l.wins, attempt{begun, time.Now()})
				l.mu.Unlock()
				break
			}
			if code >= 500 {
				l.permfail.Add(1)
				if c.Reset() != nil {
					c.Close()
					c = nil
				}
				break
			}
			l.tempfail.Add(1)
			if code == 0 || code == 421 || c.Reset() != nil {
				c.Close()
				c = nil
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

// trustedDial opens a session without AUTH, from a trusted network.
func trustedDial(addr string) (*smtp.Client, error) {
	c, err := smtp.Dial(addr)
	if err != nil {
		return nil, err
	}
	if err := c.Hello("client.test"); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// sendOnce makes one attempt at a message: recipients refused 5xx at RCPT
// are left out, a 4xx at any RCPT puts the whole message off (code 4xx),
// and an error with code 0 is a connection lost. It returns the recipients
// a 250 at DATA stands for.
func sendOnce(c *smtp.Client, subject string, rcpts []string) ([]string, int, error) {
	if err := c.Mail("rep@acme.test", nil); err != nil {
		return nil, replyCode(err), err
	}
	var ok []string
	for _, r := range rcpts {
		err := c.Rcpt(r, nil)
		if err == nil {
			ok = append(ok, r)
			continue
		}
		if code := replyCode(err); code < 500 {
			return nil, code, err
		}
	}
	if len(ok) == 0 {
		return nil, 550, errors.New("every recipient refused")
	}
	w, err := c.Data()
	if err != nil {
		return nil, replyCode(err), err
	}
	w.Write(message("rep@acme.test", ok[0], subject))
	if err := w.Close(); err != nil {
		return nil, replyCode(err), err
	}
	return ok, 0, nil
}

// finish stops the clients and waits for the messages under way.
func (l *faultLoad) finish() {
	l.stop.Store(true)
	l.wg.Wait()
}

// phase lets the load run for d and returns how many messages got 250 in it.
func (l *faultLoad) phase(d time.Duration) int64 {
	n := l.ok.Load()
	time.Sleep(d)
	return l.ok.Load() - n
}

// begunIn lets the load run for d and returns how many attempts begun in
// it got 250 in it: unlike phase, it leaves out the messages whose checks
// were all made before, which may end 250 however long their last writes
// take to fail.
func (l *faultLoad) begunIn(d time.Duration) int64 {
	from := time.Now()
	time.Sleep(d)
	to := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	var n int64
	for _, a := range l.wins {
		if !a.begun.Before(from) && !a.answered.After(to) {
			n++
		}
	}
	return n
}

// waitOK waits until one more message got 250, at most d, and returns
// how long that took, or false.
func (l *faultLoad) waitOK(d time.Duration) (time.Duration, bool) {
	start, n := time.Now(), l.ok.Load()
	for l.ok.Load() == n {
		if time.Since(start) > d {
			return d, false
		}
		time.Sleep(10 * time.Millisecond)
	}
	return time.Since(start), true
}

// started waits for the load's first 250: the sessions' logins (bcrypt,
// by design slow) come first, and take longer on a busy machine.
func (l *faultLoad) started(t *testing.T) {
	t.Helper()
	if _, ok := l.waitOK(20 * time.Second); !ok {
		l.finish()
		t.Fatal("no message of the load got 250 within 20s of its start")
	}
}

// faultRow is one line of the fault table.
type faultRow struct {
	test, fault                                     string
	sent, ok, copies, lost, unchecked, dup, noReply int
}

// tally counts, against the copies the upstream holds: lost (a recipient
// of a 250 without a copy), unchecked (a copy to a recipient refused
// says must not get one) and duplicated (a second copy of a message to
// the same recipient), less those noReply explains: the copy stored by an
// upstream that dropped the connection before its reply, which the
// gateway could not know was delivered.
func (l *faultLoad) tally(test, fault string, deliveries []delivery, refused func(rcpt string) bool, noReply map[string]int) faultRow {
	r := faultRow{test: test, fault: fault, sent: int(l.sent.Load()), ok: int(l.ok.Load())}
	copies := map[string]int{}
	for _, d := range deliveries {
		for _, to := range d.To {
			l.mu.Lock()
			ours := l.tried[to]
			l.mu.Unlock()
			if !ours {
				continue
			}
			r.copies++
			copies[subjectOf(d.Data)+" "+to]++
			if refused(to) {
				r.unchecked++
			}
		}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for subject, rcpts := range l.acked {
		for _, to := range rcpts {
			if copies[subject+" "+to] == 0 {
				r.lost++
			}
		}
	}
	for k, n := range copies {
		if n > 1 {
			extra := n - 1
			explained := min(extra, noReply[k])
			r.noReply += explained
			r.dup += extra - explained
		}
	}
	return r
}

// faultTableHeader and print give the table README.md shows.
const faultTableHeader = "| test | fault | sent | 250 | copies upstream | lost | unchecked | duplicated |"

// print writes the row to stdout (shown by go test -v), and to the file
// DNCGATE_FAULT_TABLE names when set.
func (r faultRow) print(t *testing.T) {
	dup := fmt.Sprint(r.dup)
	if r.noReply > 0 {
		dup = fmt.Sprintf("%d (+%d stored, no reply)", r.dup, r.noReply)
	}
	line := fmt.Sprintf("| %s | %s | %d | %d | %d | %d | %d | %s |", r.test, r.fault, r.sent, r.ok, r.copies, r.lost, r.unchecked, dup)
	fmt.Println("fault-table " + line)
	if p := os.Getenv("DNCGATE_FAULT_TABLE"); p != "" {
		f, err := os.OpenFile(p, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
		if err == nil {
			fmt.Fprintln(f, line)
			f.Close()
		}
	}
	t.Log(line)
}

// check fails the test unless nothing was lost, unchecked or duplicated,
// and something was sent.
func (r faultRow) check(t *testing.T) {
	t.Helper()
	r.print(t)
	if r.ok == 0 || r.copies == 0 {
		t.Errorf("%s: no message went through (%d answered 250, %d copies)", r.test, r.ok, r.copies)
	}
	if r.lost != 0 || r.unchecked != 0 || r.dup != 0 {
		t.Errorf("%s: lost %d, unchecked %d, duplicated %d; want 0 each", r.test, r.lost, r.unchecked, r.dup)
	}
}

// isOptedOut is the refused func of a load whose only refused recipients
// are the opted-out ones, named out….
func isOptedOut(rcpt string) bool { return strings.HasPrefix(rcpt, "out") }

// optOutSome opts n recipients out and returns them.
func optOutSome(t *testing.T, cfg string, n int) []string {
	var out []string
	for i := range n {
		a := fmt.Sprintf("out%d@prospect.test", i)
		mustCLI(t, "", "optout", "add", a, "--reason", "asked by phone", "--config", cfg)
		out = append(out, a)
	}
	return out
}
