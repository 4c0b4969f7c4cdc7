package upstream

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"time"

	"github.com/dncgate/dncgate/smtpreply"
	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// smtpTarget relays to an SMTP server through a pool of connections.
type smtpTarget struct {
	spec Spec
	o    TargetOptions
	tls  *tls.Config
	pool *pool
	// dialTCP opens the TCP connection; tests wrap it to watch the writes.
	dialTCP func(ctx context.Context, addr string) (net.Conn, error)
}

func dialTCP(ctx context.Context, addr string) (net.Conn, error) {
	var d net.Dialer
	return d.DialContext(ctx, "tcp", addr)
}

// message is the input of one upstream transaction.
type message struct {
	from  string
	mopts *smtp.MailOptions // never nil
	rcpt  Rcpt
	body  []byte
}

// phase is how far a transaction got; it decides whether the connection may
// be reused and whether a retry could deliver twice.
type phase int

const (
	phaseCheck phase = iota // capability checks; nothing sent
	phaseMail               // MAIL sent
	phaseRcpt               // RCPT sent
	phaseData               // DATA sent, no body yet
	phaseBody               // body sent or being sent
)

// failure is a transaction that did not end in 250.
type failure struct {
	phase phase
	err   error
	gate  bool // the gate refused: err is its error, passed on as it is
}

func (t *smtpTarget) Send(ctx context.Context, from string, mopts *smtp.MailOptions, rcpt Rcpt, body []byte) error {
	if err := ctx.Err(); err != nil {
		return fromTransport(err, true)
	}
	if mopts == nil {
		mopts = &smtp.MailOptions{}
	}
	m := &message{from: from, mopts: mopts, rcpt: rcpt, body: body}
	if err := validate(m); err != nil {
		return err
	}
	if u := t.pool.get(t.o.Now()); u != nil {
		if retry, err := t.attempt(ctx, u, m); !retry {
			return err
		}
	}
	u, err := t.dial(ctx)
	if err != nil {
		return err
	}
	_, err = t.attempt(ctx, u, m)
	return err
}

func (t *smtpTarget) Close() error {
	t.pool.close()
	return nil
}

// attempt runs one transaction on u, then pools or closes u. retry reports
// that u turned out dead before MAIL was accepted, so nothing was delivered
// and a fresh connection may try again; later failures are never retried,
// since the upstream may already hold the message.
func (t *smtpTarget) attempt(ctx context.Context, u *upConn, m *message) (retry bool, err error) {
	// Closing the socket is the one way to abort a go-smtp client call.
	stop := context.AfterFunc(ctx, func() { u.raw.Close() })
	f := t.transact(ctx, u, m)
	keep := f.reusable() && (!f.needsReset() || t.reset(u))
	interrupted := !stop()
	if keep && !interrupted {
		t.pool.put(u, t.o.Now())
	} else {
		u.close()
	}
	switch {
	case f == nil:
		return false, nil
	case interrupted && !f.reusable():
		return false, fromTransport(errors.Join(ctx.Err(), f.err), false)
	case interrupted:
		return false, f.toError()
	}
	return f.stale(), f.toError()
}

func (t *smtpTarget) transact(ctx context.Context, u *upConn, m *message) *failure {
	if pipelines(u) {
		return t.pipelined(ctx, u, m)
	}
	mo, err := mailOptions(u, m)
	if err != nil {
		return &failure{phase: phaseCheck, err: err}
	}
	// go-smtp's client writes the address as given: a local part the
	// client had quoted must be quoted again (RFC 5321 §4.1.2).
	if err := u.c.Mail(smtpreply.Quote(m.from), mo); err != nil {
		return &failure{phase: phaseMail, err: err}
	}
	if err := u.c.Rcpt(smtpreply.Quote(m.rcpt.Addr), rcptOptions(m.rcpt.Opts)); err != nil {
		return &failure{phase: phaseRcpt, err: err}
	}
	w, err := u.c.Data()
	if err != nil {
		return &failure{phase: phaseData, err: err}
	}
	// go-smtp clears the socket deadline once DATA is answered; without one,
	// an upstream that stops reading would block the body write for ever.
	u.raw.SetDeadline(time.Now().Add(t.o.DataTimeout))
	if _, err := w.Write(m.body); err != nil {
		return &failure{phase: phaseBody, err: err}
	}
	// The upstream holds the copy from the final dot on: nothing before it
	// commits anything, so the gate is waited for only now, after the
	// round trips above.
	if err := PassGate(ctx); err != nil {
		return &failure{phase: phaseBody, err: err, gate: true}
	}
	if err := w.Close(); err != nil {
		return &failure{phase: phaseBody, err: err}
	}
	return nil
}

// reset ends a refused transaction with RSET (RFC 5321 §4.1.1.5). go-smtp
// forgets the EHLO on Reset, so greet again now, while the deadline of the
// send still applies, rather than on the next use.
func (t *smtpTarget) reset(u *upConn) bool {
	if pipelines(u) {
		return u.wire.reset(t.o.CommandTimeout)
	}
	return u.c.Reset() == nil && u.c.Hello(t.o.LocalName) == nil
}

// reusable reports whether the connection is still in step with the
// upstream: nothing was sent, or the upstream answered with a refusal other
// than 421, which closes the channel (RFC 5321 §3.8).
func (f *failure) reusable() bool {
	if f == nil || f.phase == phaseCheck {
		return true
	}
	if f.gate {
		return false // mid-DATA: only closing the connection aborts the copy
	}
	var se *smtp.SMTPError
	return errors.As(f.err, &se) && se.Code != codeServiceClosing
}

// needsReset: a transaction is open after MAIL was accepted and until the
// reply to the final dot.
func (f *failure) needsReset() bool {
	return f != nil && (f.phase == phaseRcpt || f.phase == phaseData)
}

// stale reports a pooled connection that died while idle: MAIL got no reply,
// or the 421 the server sent when it gave up on us.
func (f *failure) stale() bool {
	if f.phase != phaseMail {
		return false
	}
	var se *smtp.SMTPError
	if errors.As(f.err, &se) {
		return se.Code == codeServiceClosing
	}
	return true
}

func (f *failure) toError() error {
	if f.gate {
		return f.err
	}
	var se *smtp.SMTPError
	if f.phase != phaseCheck && errors.As(f.err, &se) {
		return fromReply(se)
	}
	return fromTransport(f.err, false)
}

// dial opens, greets, secures and authenticates a new connection, all within
// DialTimeout.
func (t *smtpTarget) dial(ctx context.Context) (*upConn, error) {
	ctx, cancel := context.WithTimeout(ctx, t.o.DialTimeout)
	defer cancel()
	raw, err := t.dialTCP(ctx, t.spec.Addr())
	if err != nil {
		return nil, fromTransport(err, true)
	}
	stop := context.AfterFunc(ctx, func() { raw.Close() })
	u, err := t.setup(ctx, raw)
	if !stop() {
		err = errors.Join(ctx.Err(), err)
	}
	if err != nil {
		raw.Close()
		return nil, fromTransport(err, true)
	}
	return u, nil
}

func (t *smtpTarget) setup(ctx context.Context, raw net.Conn) (*upConn, error) {
	conn, greeted, err := t.secure(ctx, raw)
	if err != nil {
		return nil, err
	}
	c := smtp.NewClient(greeted)
	c.CommandTimeout = t.o.CommandTimeout
	c.SubmissionTimeout = t.o.DataTimeout
	if err := c.Hello(t.o.LocalName); err != nil {
		return nil, err
	}
	if err := t.auth(c); err != nil {
		return nil, err
	}
	return &upConn{c: c, raw: raw, wire: newWire(conn), tls: t.spec.TLS()}, nil
}

// secure returns the connection SMTP travels on (inside TLS when there is
// TLS) and the one go-smtp's client is to read, which differs only after
// STARTTLS: there it replays a greeting (starttls.go).
func (t *smtpTarget) secure(ctx context.Context, raw net.Conn) (conn, greeted net.Conn, err error) {
	switch t.spec.Scheme {
	case SchemeSMTPS:
		tc := tls.Client(raw, t.tls)
		if err := tc.HandshakeContext(ctx); err != nil {
			return nil, nil, err
		}
		return tc, tc, nil
	case SchemeStartTLS:
		tc, err := startTLS(ctx, raw, t.o.LocalName, t.tls)
		if err != nil {
			return nil, nil, err
		}
		return tc, replayGreeting(tc), nil
	}
	return raw, raw, nil
}

// auth logs in with PLAIN (RFC 4616), or LOGIN when that is all the upstream
// offers. A refusal is the gateway's configuration problem, not the
// message's, so it is temporary.
func (t *smtpTarget) auth(c *smtp.Client) error {
	if t.spec.User == "" {
		return nil
	}
	var a sasl.Client
	switch {
	case c.SupportsAuth(sasl.Plain):
		a = sasl.NewPlainClient("", t.spec.User, t.spec.Password)
	case c.SupportsAuth(sasl.Login):
		a = sasl.NewLoginClient(t.spec.User, t.spec.Password)
	default:
		return temporary(smtpreply.Misconfigured, "upstream offers no AUTH PLAIN or LOGIN", nil)
	}
	err := c.Auth(a)
	var se *smtp.SMTPError
	if errors.As(err, &se) {
		return temporary(smtpreply.Misconfigured, "upstream refused the gateway's credentials", se)
	}
	return err
}
