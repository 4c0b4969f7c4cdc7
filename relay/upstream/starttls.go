package upstream

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/textproto"
	"strings"
)

// startTLS runs the clear-text opening of a session (greeting, EHLO,
// STARTTLS: RFC 3207 §4) and returns the TLS connection, handshake done.
// The gateway does this itself, not through go-smtp's client, so that it
// holds the connection inside TLS for pipelined transactions (pipeline.go).
// A failure anywhere ends the connection: there is no fallback to plain
// text.
func startTLS(ctx context.Context, raw net.Conn, localName string, cfg *tls.Config) (*tls.Conn, error) {
	if hasLineBreak(localName) {
		return nil, errors.New("the EHLO name contains a line break")
	}
	br := bufio.NewReader(raw)
	tp := struct {
		*textproto.Reader
		*textproto.Writer
	}{textproto.NewReader(br), textproto.NewWriter(bufio.NewWriter(raw))}
	if _, _, err := tp.ReadResponse(220); err != nil {
		return nil, asReplyError(err)
	}
	if err := tp.PrintfLine("EHLO %s", localName); err != nil {
		return nil, err
	}
	_, msg, err := tp.ReadResponse(250)
	if err != nil {
		return nil, asReplyError(err)
	}
	if !offers(msg, "STARTTLS") {
		return nil, errors.New("upstream does not offer STARTTLS")
	}
	if err := tp.PrintfLine("STARTTLS"); err != nil {
		return nil, err
	}
	if _, _, err := tp.ReadResponse(220); err != nil {
		return nil, asReplyError(err)
	}
	// Anything already sent after the 220 came in clear text and could
	// have been injected on the path: refuse it (RFC 3207 §5).
	if br.Buffered() > 0 {
		return nil, errors.New("upstream sent data in clear text after STARTTLS")
	}
	tc := tls.Client(raw, cfg)
	if err := tc.HandshakeContext(ctx); err != nil {
		return nil, err
	}
	return tc, nil
}

// offers reports whether an EHLO reply's text lists keyword; the first
// line is the server's name.
func offers(ehlo, keyword string) bool {
	lines := strings.Split(ehlo, "\n")
	for _, l := range lines[1:] {
		if kw, _, _ := strings.Cut(l, " "); strings.EqualFold(kw, keyword) {
			return true
		}
	}
	return false
}

func asReplyError(err error) error {
	var te *textproto.Error
	if errors.As(err, &te) {
		return replyError(te.Code, te.Msg)
	}
	return err
}

// replayGreeting gives go-smtp's client, which expects a server greeting
// before its EHLO, a 220 line of its own: the upstream's real greeting came
// before STARTTLS, in clear text, and after TLS the session starts again
// from EHLO (RFC 3207 §4.2), which the client then sends inside TLS.
func replayGreeting(c net.Conn) net.Conn {
	return &greetedConn{Conn: c, greeting: strings.NewReader("220 TLS session\r\n")}
}

type greetedConn struct {
	net.Conn
	greeting *strings.Reader
}

func (c *greetedConn) Read(p []byte) (int, error) {
	if c.greeting.Len() > 0 {
		return c.greeting.Read(p)
	}
	return c.Conn.Read(p)
}
