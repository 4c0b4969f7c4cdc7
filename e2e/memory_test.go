package e2e

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/emersion/go-smtp"
)

// Memory under hostile messages. The figures are those the README gives:
// a copy is at most its message plus a fixed allowance, and the gateway's
// peak resident memory stays under memBase + memPerTx × max_message_size
// × the transactions in DATA at once.
const (
	memMaxSize  = 8 << 20 // max_message_size of the test
	memSessions = 4       // transactions in DATA at once
	memRcpts    = 4       // recipients of each message
	memBase     = 64 << 20
	// memPerTx is 3 + upstream.parallel: the message as read, what Parse
	// decodes and encodes once for all copies, and one copy per
	// recipient being sent at once (4 by default).
	memPerTx = 3 + 4
	// copySlack bounds the bytes a copy adds: headers, two footers and
	// their encoding (rewrite.Allowance, with the shipped templates).
	copySlack = 64 << 10
)

// hostileMsg is a message an attacker would send, and the reply code it
// must get: 0 when it is delivered.
type hostileMsg struct {
	body []byte
	code int
}

// hostile builds messages near size: floods of alternatives (too many
// parts, or fewer but bigger ones, also nested deep), one HTML line in
// base64 that every copy re-encodes, and a body labelled 7bit full of
// 8-bit bytes that would have to be re-encoded whole.
func hostile(size int) map[string]hostileMsg {
	head := "From: Sam Rep <rep@acme.test>\r\nTo: <p0@prospect.com>\r\nSubject: %s\r\nMIME-Version: 1.0\r\n"
	alt := func(b *strings.Builder, name string, n, partSize int) {
		fmt.Fprintf(b, "Content-Type: multipart/alternative; boundary=%q\r\n\r\n", name)
		pad := strings.Repeat("y", partSize)
		for i := 0; b.Len() < n; i++ {
			fmt.Fprintf(b, "--%s\r\nContent-Type: text/plain\r\n\r\nt%d %s\r\n--%s\r\nContent-Type: text/html\r\n\r\n<p>h%d %s</p>\r\n",
				name, i, pad, name, i, pad)
		}
		fmt.Fprintf(b, "--%s--\r\n", name)
	}
	out := map[string]hostileMsg{}
	var b strings.Builder
	for _, c := range []struct {
		name           string
		depth, partLen int
		code           int
	}{{"flood", 0, 1, 554}, {"wide", 0, 1000, 0}, {"nested", 19, 1000, 0}} {
		b.Reset()
		fmt.Fprintf(&b, head, c.name)
		for d := range c.depth {
			fmt.Fprintf(&b, "Content-Type: multipart/mixed; boundary=\"m%d\"\r\n\r\n--m%d\r\n", d, d)
		}
		alt(&b, "a", size-4096, c.partLen)
		for d := c.depth - 1; d >= 0; d-- {
			fmt.Fprintf(&b, "--m%d--\r\n", d)
		}
		out[c.name] = hostileMsg{[]byte(b.String()), c.code}
	}

	html := "<html><body><div hidden><textarea>" + strings.Repeat("x", size*7/10) + "</body></html>"
	b.Reset()
	fmt.Fprintf(&b, head, "base64-html")
	b.WriteString("Content-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n")
	enc := base64.StdEncoding.EncodeToString([]byte(html))
	for len(enc) > 76 {
		b.WriteString(enc[:76] + "\r\n")
		enc = enc[76:]
	}
	b.WriteString(enc + "\r\n")
	out["base64-html"] = hostileMsg{[]byte(b.String()), 0}

	b.Reset()
	fmt.Fprintf(&b, head, "re-encode")
	b.WriteString("Content-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: 7bit\r\n\r\n")
	for b.Len() < size-100 {
		b.WriteString("\xe9t\xe9 \xe0 la plage, \xe9t\xe9 \xe0 la plage.\r\n")
	}
	out["re-encode"] = hostileMsg{[]byte(b.String()), 552}
	return out
}

// TestMemoryUnderHostileMessages sends hostile messages just under
// max_message_size, each to several recipients, from several sessions at
// once, to the built binary, and checks that it survives, that every copy
// is bounded and that its peak resident memory (VmHWM) stays under the
// documented bound. GOMEMLIMIT makes the runtime collect before it would
// pass the bound, as the README advises operators to set it.
func TestMemoryUnderHostileMessages(t *testing.T) {
	dir := t.TempDir()
	outbox := filepath.Join(dir, "outbox")
	addr := freeAddr(t)
	bound := memBase + memPerTx*memMaxSize*memSessions
	cfg := writeConfig(t, dir, fmt.Sprintf(`
[server]
hostname = "gw.test"
data_dir = %q

[[listener]]
name = "loopback"
address = %q
tls = "none"

[upstream]
url = "outbox:%s"

[limits]
max_message_size = "%dB"
max_conns_per_ip = 50
%s`, dir, addr, outbox, memMaxSize, footerSection))
	addUser(t, "rep@acme.test", "--config", cfg)
	os.Setenv("GOMEMLIMIT", strconv.Itoa(bound*3/4))
	g := startGateway(t, addr, "--config", cfg)
	os.Unsetenv("GOMEMLIMIT")

	msgs := hostile(memMaxSize - 64<<10)
	delivered := 0
	for _, m := range msgs {
		if m.code == 0 {
			delivered++
		}
	}
	idle := vmHWM(t, g.cmd.Process.Pid)
	for round := 0; round < 2; round++ {
		var wg sync.WaitGroup
		errs := make(chan error, memSessions*len(msgs))
		for s := range memSessions {
			wg.Go(func() {
				for name, m := range msgs {
					rcpts := make([]string, memRcpts)
					for i := range rcpts {
						rcpts[i] = fmt.Sprintf("p%d.%d.%d@prospect.com", round, s, i)
					}
					body := bytes.Replace(m.body, []byte("Subject: "), []byte(fmt.Sprintf("Subject: %d-%d ", round, s)), 1)
					err := sendAs(addr, "rep@acme.test", "rep@acme.test", rcpts, body)
					var se *smtp.SMTPError
					switch {
					case m.code == 0 && err != nil:
						errs <- fmt.Errorf("%s: %w", name, err)
					case m.code != 0 && (!asSMTPError(err, &se) || se.Code != m.code):
						errs <- fmt.Errorf("%s: %v, want a %d reply", name, err, m.code)
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
	}
	select {
	case err := <-g.done:
		g.done <- err
		t.Fatalf("the gateway died: %v", err)
	default:
	}
	peak := vmHWM(t, g.cmd.Process.Pid)
	files, _ := filepath.Glob(filepath.Join(outbox, "*"))
	want := 2 * memSessions * delivered * memRcpts
	if len(files) != want {
		t.Errorf("%d copies in the outbox, want %d", len(files), want)
	}
	for _, f := range files {
		st, err := os.Stat(f)
		if err != nil {
			t.Fatal(err)
		}
		if st.Size() > memMaxSize+copySlack {
			t.Errorf("%s: a copy of %d bytes, over max_message_size + %d", filepath.Base(f), st.Size(), copySlack)
		}
	}
	t.Logf("peak RSS %d MiB (%d MiB idle) for %d sessions × %d recipients of %d MiB messages; bound %d MiB",
		peak>>20, idle>>20, memSessions, memRcpts, memMaxSize>>20, bound>>20)
	if peak > int64(bound) {
		t.Errorf("peak RSS %d MiB over the documented bound of %d MiB", peak>>20, bound>>20)
	}
}

// vmHWM reads a process's peak resident set size.
func vmHWM(t *testing.T, pid int) int64 { return procStatusBytes(t, pid, "VmHWM") }

// procStatusBytes reads a size field (VmHWM, VmRSS) of /proc/PID/status.
func procStatusBytes(t *testing.T, pid int, field string) int64 {
	t.Helper()
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return kb << 10
		}
	}
	t.Fatalf("no %s in /proc/%d/status", field, pid)
	return 0
}
