package relay

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// FuzzDataPath sends arbitrary message bytes through the real front door
// (go-smtp's DATA reader, then ours) from a trusted client. Whatever the
// bytes, as long as they do not themselves hold the CRLF.CRLF end of data,
// at most one message reaches the forwarder, and never one with a bare CR
// or LF. Seeds live in testdata/fuzz/FuzzDataPath.
func FuzzDataPath(f *testing.F) {
	f.Add([]byte("From: crm@acme.fr\r\n\r\nhello\r\n"))
	f.Add([]byte("From: crm@acme.fr\r\n\r\nhi\n.\nMAIL FROM:<crm@acme.fr>\r\nRCPT TO:<v@x.com>\r\nDATA\r\nFrom: crm@acme.fr\r\n\r\nevil"))
	f.Fuzz(func(t *testing.T, payload []byte) {
		if bytes.Contains(append([]byte("\r\n"), payload...), []byte("\r\n.\r\n")) {
			t.Skip("holds a real end of data")
		}
		e := fuzzEnv(t)
		replies := sendRaw(t, e.addr(0), payload)
		calls := e.fwd.got()
		if len(calls) > 1 {
			t.Fatalf("%d messages forwarded from one DATA: %q", len(calls), replies)
		}
		if len(calls) == 1 && hasBareLineEnd([]byte(calls[0].body)) {
			t.Fatalf("forwarded a bare line ending: %q", calls[0].body)
		}
		if n := strings.Count(replies, "Delivered to"); n > 1 {
			t.Fatalf("%d delivery replies: %q", n, replies)
		}
	})
}

// fuzzEnv is a trusted-network server: no AUTH, so no bcrypt per input.
func fuzzEnv(t *testing.T) *testEnv {
	return testServer(t, withTrusted("127.0.0.0/8", botEmail), func(o *Options) {
		o.MaxMessageBytes = 4096
		o.MaxLineLength = 1000
	})
}

// sendRaw runs one transaction with payload as the DATA bytes, then QUIT,
// and returns every reply.
func sendRaw(t *testing.T, addr string, payload []byte) string {
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	r := bufio.NewReader(conn)
	var all strings.Builder
	step := func(cmd string) {
		if cmd != "" {
			conn.Write([]byte(cmd))
		}
		for {
			line, err := r.ReadString('\n')
			all.WriteString(line)
			if err != nil || len(line) < 4 || line[3] != '-' {
				return
			}
		}
	}
	step("")
	step("EHLO fuzz.test\r\n")
	step("MAIL FROM:<crm@acme.fr>\r\n")
	step("RCPT TO:<a@example.com>\r\n")
	step("DATA\r\n")
	conn.Write(append(payload, "\r\n.\r\nQUIT\r\n"...))
	// go-smtp misses an end of data right after a bare CR ("\r\r\n.\r\n")
	// and would wait for more; closing our side ends the DATA either way.
	conn.(*net.TCPConn).CloseWrite()
	rest, _ := io.ReadAll(r)
	all.Write(rest)
	return all.String()
}

// The fuzz harness is not vacuous: a clean message does get through it, and
// a smuggling attempt gets the 550.
func TestDataPathHarness(t *testing.T) {
	e := fuzzEnv(t)
	replies := sendRaw(t, e.addr(0), []byte("From: crm@acme.fr\r\n\r\nhello"))
	if calls := e.fwd.got(); len(calls) != 1 || calls[0].body != "From: crm@acme.fr\r\n\r\nhello\r\n" {
		t.Fatalf("forwarded %+v; replies %q", calls, replies)
	}
	replies = sendRaw(t, e.addr(0), []byte("From: crm@acme.fr\r\n\r\nhi\n.\nMAIL FROM:<crm@acme.fr>\r\n"))
	if !strings.Contains(replies, "550 5.6.11") || len(e.fwd.got()) != 1 {
		t.Fatalf("replies %q", replies)
	}
}
