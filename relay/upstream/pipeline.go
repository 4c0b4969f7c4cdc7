package upstream

import (
	"bufio"
	"context"
	"errors"
	"net"
	"net/textproto"
	"strconv"
	"strings"
	"time"

	"github.com/dncgate/dncgate/smtpreply"
	"github.com/emersion/go-smtp"
)

// An upstream that announces PIPELINING (RFC 2920) gets MAIL, RCPT and DATA
// in one write, and the gateway reads the three replies in order: one round
// trip before the body instead of three. go-smtp's client waits for each
// reply before it sends the next command, so these transactions are
// written here, on the connection under the client (inside TLS when there
// is TLS); the client still greets, secures and authenticates, and serves
// the upstreams without PIPELINING, in lock-step as before. Once a
// connection is used this way, every later command on it goes through the
// wire, so the two readers never share buffered input.

// wire is one upstream connection at the SMTP level, for the commands the
// gateway writes itself.
type wire struct {
	conn net.Conn
	r    *textproto.Reader
	w    *bufio.Writer
	tw   *textproto.Writer
}

func newWire(c net.Conn) *wire {
	bw := bufio.NewWriterSize(c, 4096)
	return &wire{conn: c, r: textproto.NewReader(bufio.NewReader(c)), w: bw, tw: textproto.NewWriter(bw)}
}

// pipelines reports whether u's transactions are pipelined.
func pipelines(u *upConn) bool { return u.wire != nil && has(u, "PIPELINING") }

// pipelined runs one transaction as a command group (RFC 2920 §3.1: DATA
// ends the group), then sends the body once the upstream said 354. A 421
// or a lost connection ends it at once; any other refusal has its replies
// all read, so the connection stays in step and may serve the next message.
func (t *smtpTarget) pipelined(ctx context.Context, u *upConn, m *message) *failure {
	mo, err := mailOptions(u, m)
	if err != nil {
		return &failure{phase: phaseCheck, err: err}
	}
	w := u.wire
	w.deadline(t.o.CommandTimeout)
	defer w.deadline(0)
	w.w.WriteString(mailCommand(u, m.from, mo))
	w.w.WriteString(rcptCommand(u, m.rcpt))
	w.w.WriteString("DATA\r\n")
	if err := w.w.Flush(); err != nil {
		return &failure{phase: phaseMail, err: err}
	}
	var refused *failure
	var dataErr error
	for _, step := range []struct {
		p    phase
		want int
	}{{phaseMail, 250}, {phaseRcpt, 25}, {phaseData, 354}} {
		err := w.reply(step.want)
		if err != nil && (closesChannel(err) || refused == nil) {
			refused = &failure{phase: step.p, err: err}
		}
		if closesChannel(err) {
			return refused
		}
		dataErr = err
	}
	if refused == nil {
		return t.pipelinedBody(ctx, w, m)
	}
	if dataErr == nil {
		// DATA got 354 though MAIL or RCPT was refused: end it with an
		// empty message, which no accepted recipient receives (§3.1).
		if err := w.endEmpty(); err != nil {
			return &failure{phase: phaseBody, err: err}
		}
	}
	return refused
}

// pipelinedBody sends the body, dot-stuffed, passes the copy's gate and
// only then the final dot, and reads the final reply.
func (t *smtpTarget) pipelinedBody(ctx context.Context, w *wire, m *message) *failure {
	w.deadline(t.o.DataTimeout)
	dw := w.tw.DotWriter()
	if _, err := dw.Write(m.body); err != nil {
		return &failure{phase: phaseBody, err: err}
	}
	// The upstream holds the copy only from the final dot on: the gate is
	// waited for only now, after the group's round trip (what the buffer
	// could not hold of the body is already out; the rest goes with the
	// dot, in one write).
	if err := PassGate(ctx); err != nil {
		return &failure{phase: phaseBody, err: err, gate: true}
	}
	if err := dw.Close(); err != nil {
		return &failure{phase: phaseBody, err: err}
	}
	if err := w.reply(250); err != nil {
		return &failure{phase: phaseBody, err: err}
	}
	return nil
}

// endEmpty sends the lone dot of an empty message and reads its reply,
// whatever it says.
func (w *wire) endEmpty() error {
	w.w.WriteString(".\r\n")
	if err := w.w.Flush(); err != nil {
		return err
	}
	if err := w.reply(250); err != nil && closesChannel(err) {
		return err
	}
	return nil
}

// reset ends a refused transaction with RSET (RFC 5321 §4.1.1.5). Unlike
// go-smtp's client the wire keeps the EHLO, which RSET does not undo.
func (w *wire) reset(timeout time.Duration) bool {
	w.deadline(timeout)
	defer w.deadline(0)
	w.w.WriteString("RSET\r\n")
	return w.w.Flush() == nil && w.reply(250) == nil
}

func (w *wire) deadline(d time.Duration) {
	if d <= 0 {
		w.conn.SetDeadline(time.Time{})
		return
	}
	w.conn.SetDeadline(time.Now().Add(d))
}

// reply reads one reply. It returns nil when its code matches want (a
// full code, or its first two digits), an *smtp.SMTPError for any other
// reply, and the read error when there is no reply.
func (w *wire) reply(want int) error {
	code, msg, err := w.r.ReadResponse(0)
	if err != nil {
		return err
	}
	if code == want || code/10 == want {
		return nil
	}
	return replyError(code, msg)
}

// replyError reads the enhanced status code (RFC 3463) that starts each
// line of a reply, as go-smtp's client does, so that both paths give the
// same errors.
func replyError(code int, msg string) *smtp.SMTPError {
	se := &smtp.SMTPError{Code: code, Message: msg}
	first, rest, ok := strings.Cut(msg, " ")
	if !ok {
		return se
	}
	ec, ok := enhancedCode(first)
	if !ok {
		return se
	}
	se.EnhancedCode = ec
	se.Message = strings.ReplaceAll(rest, "\n"+first+" ", "\n")
	return se
}

func enhancedCode(s string) (smtp.EnhancedCode, bool) {
	var ec smtp.EnhancedCode
	parts := strings.Split(s, ".")
	if len(parts) != len(ec) {
		return ec, false
	}
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil {
			return ec, false
		}
		ec[i] = n
	}
	return ec, true
}

// closesChannel: no reply at all, or a 421, after which the upstream
// closes the connection (RFC 5321 §3.8).
func closesChannel(err error) bool {
	if err == nil {
		return false
	}
	var se *smtp.SMTPError
	return !errors.As(err, &se) || se.Code == codeServiceClosing
}

// mailCommand writes MAIL with the parameters go-smtp's client would add
// for the same options: BODY=8BITMIME whenever offered (RFC 6152), SIZE
// (RFC 1870), REQUIRETLS (RFC 8689) and SMTPUTF8 (RFC 6531), already
// checked against the upstream, and RET and ENVID only to a DSN server
// (RFC 3461 §4.3, §4.4).
func mailCommand(u *upConn, from string, mo *smtp.MailOptions) string {
	var b strings.Builder
	b.WriteString("MAIL FROM:<" + smtpreply.Quote(from) + ">")
	if has(u, "8BITMIME") {
		b.WriteString(" BODY=8BITMIME")
	}
	if has(u, "SIZE") && mo.Size != 0 {
		b.WriteString(" SIZE=" + strconv.FormatInt(mo.Size, 10))
	}
	if mo.RequireTLS {
		b.WriteString(" REQUIRETLS")
	}
	if mo.UTF8 {
		b.WriteString(" SMTPUTF8")
	}
	if has(u, "DSN") {
		if mo.Return != "" {
			b.WriteString(" RET=" + string(mo.Return))
		}
		if mo.EnvelopeID != "" {
			b.WriteString(" ENVID=" + xtext(mo.EnvelopeID, plusHex))
		}
	}
	b.WriteString("\r\n")
	return b.String()
}

// rcptCommand writes RCPT with NOTIFY and ORCPT for a DSN server (RFC 3461
// §4.1, §4.2); validate has checked their values.
func rcptCommand(u *upConn, r Rcpt) string {
	var b strings.Builder
	b.WriteString("RCPT TO:<" + smtpreply.Quote(r.Addr) + ">")
	if has(u, "DSN") {
		if len(r.Opts.Notify) > 0 {
			ns := make([]string, len(r.Opts.Notify))
			for i, n := range r.Opts.Notify {
				ns[i] = string(n)
			}
			b.WriteString(" NOTIFY=" + strings.Join(ns, ","))
		}
		if o := r.Opts.OriginalRecipient; o != "" {
			b.WriteString(" ORCPT=" + string(r.Opts.OriginalRecipientType) + ";" + orcpt(u, r.Opts.OriginalRecipientType, o))
		}
	}
	b.WriteString("\r\n")
	return b.String()
}

// orcpt encodes an original recipient: xtext for rfc822 (RFC 3461 §4.2),
// and for utf-8 the unitext form to an SMTPUTF8 server or the all-ASCII
// form to others (RFC 6533 §3).
func orcpt(u *upConn, typ smtp.DSNAddressType, addr string) string {
	switch {
	case typ != smtp.DSNAddressTypeUTF8:
		return xtext(addr, plusHex)
	case has(u, "SMTPUTF8"):
		return xtext(addr, unitext)
	}
	return xtext(addr, bracedHex)
}

// xtext keeps printable ASCII other than '+' and '=' and writes every other
// character with esc.
func xtext(s string, esc func(b *strings.Builder, r rune)) string {
	var b strings.Builder
	for _, r := range s {
		if r > ' ' && r <= '~' && r != '+' && r != '=' {
			b.WriteRune(r)
			continue
		}
		esc(&b, r)
	}
	return b.String()
}

// plusHex is xtext's "+HH" (RFC 3461 §4).
func plusHex(b *strings.Builder, r rune) {
	b.WriteString("+" + strings.ToUpper(strconv.FormatInt(int64(r), 16)))
}

// bracedHex is utf-8-addr-xtext's "\x{HHHH}" (RFC 6533 §3).
func bracedHex(b *strings.Builder, r rune) {
	b.WriteString(`\x{` + strings.ToUpper(strconv.FormatInt(int64(r), 16)) + "}")
}

// unitext keeps non-ASCII characters as they are (utf-8-addr-unitext, RFC
// 6533 §3) and escapes the rest of ASCII as bracedHex does.
func unitext(b *strings.Builder, r rune) {
	if r > 0x7f {
		b.WriteRune(r)
		return
	}
	bracedHex(b, r)
}
