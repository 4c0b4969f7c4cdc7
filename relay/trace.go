package relay

import (
	"bytes"
	"fmt"
	"net/mail"
	"strings"
	"time"
)

// traceFields are the fields every copy gets on top of its header: a
// Received field, which RFC 5321 §4.4 asks of every relay, and a Date when
// the message has none (RFC 5322 §3.6 requires one; a submission server
// may add it, RFC 6409 §8.3). They are added to each copy after the
// Stamper made it, so that the digest that recognises a client's retry and
// the Message-ID derived from the message stay as they were; a DKIM
// signature the gateway adds does not cover them.
func (s *session) traceFields(tx *transaction, body []byte, now time.Time) []byte {
	var b bytes.Buffer
	b.WriteString("Received: ")
	if s.srv.opts.ReceivedClient {
		fmt.Fprintf(&b, "from %s ([%s])\r\n\t", receivedToken(s.helo), s.peer)
	}
	fmt.Fprintf(&b, "by %s (dncgate) with %s id %s;\r\n\t%s\r\n",
		s.srv.opts.Hostname, s.protocol(tx), tx.ref, now.Format(time.RFC1123Z))
	if !hasDate(body) {
		fmt.Fprintf(&b, "Date: %s\r\n", now.Format(time.RFC1123Z))
	}
	return b.Bytes()
}

// protocol is the Received "with" keyword (RFC 3848, RFC 6531 §4.3): ESMTP,
// S with TLS, A with AUTH (a trusted network's mail is not authenticated).
func (s *session) protocol(tx *transaction) string {
	p := "ESMTP"
	if tx.opts.UTF8 {
		p = "UTF8SMTP"
	}
	if s.secure {
		p += "S"
	}
	if s.how == "auth" {
		p += "A"
	}
	return p
}

// receivedToken keeps a client's HELO argument to one harmless word.
func receivedToken(helo string) string {
	t := strings.Map(func(r rune) rune {
		if r <= ' ' || r > '~' || strings.ContainsRune("()[];\\\"", r) {
			return -1
		}
		return r
	}, helo)
	if t == "" || len(t) > maxPathLen {
		return "unknown"
	}
	return t
}

// hasDate reports whether the header holds a Date field. A header that does
// not parse gets none added: checkHeaders has refused it already.
func hasDate(body []byte) bool {
	m, err := mail.ReadMessage(bytes.NewReader(body))
	return err != nil || len(m.Header["Date"]) > 0
}

// withTrace makes each copy start with the trace fields.
func withTrace(next func(rcpt string, body []byte) ([]byte, error), trace []byte) func(string, []byte) ([]byte, error) {
	return func(rcpt string, body []byte) ([]byte, error) {
		if next != nil {
			b, err := next(rcpt, body)
			if err != nil {
				return nil, err
			}
			body = b
		}
		out := make([]byte, 0, len(trace)+len(body))
		return append(append(out, trace...), body...), nil
	}
}
