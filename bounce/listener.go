package bounce

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/dncgate/dncgate/internal/connlimit"
	"github.com/dncgate/dncgate/smtpreply"
	"github.com/dncgate/dncgate/unsubscribe/token"
)

// Limits of the bounce listener. A bounce carries the original message,
// so it may be as big as what the relay takes.
const (
	DefaultConns          = 64
	DefaultPerClient      = 8
	DefaultMaxBytes       = 25 << 20
	defaultSessionTimeout = 5 * time.Minute
	defaultCommandTimeout = time.Minute
	maxRecipients         = 10
	maxLine               = 2000 // RFC 5321 §4.5.3.1.6 allows 1000; some servers fold late
	storeTimeout          = 10 * time.Second
	// missingGrace: an authentic return path younger than this whose copy
	// the ledger does not hold is answered 451, as its record may still
	// wait in the ledger's spool; older, the record has expired or been
	// erased and nothing can be told of the copy (550 5.1.1).
	missingGrace = 7 * 24 * time.Hour
)

// Replies of the bounce listener.
var (
	// errNotHere: anything but a return path of the bounce domain, so the
	// listener is never a relay.
	errNotHere  = reply(smtpreply.Denied, "This server only takes bounces to its return paths")
	errBadToken = reply(smtpreply.NoSuchMailbox, "No such return path")
	errStore    = reply(smtpreply.Local, "Temporary failure, please retry")
	errLedger   = reply(smtpreply.Local, "The send ledger cannot tell this return path's copy now, please retry")
	errForward  = reply(smtpreply.Local, "The bounce could not be passed on, please retry")
	errRead     = reply(smtpreply.ConnLost, "Error reading the message")
)

func reply(st smtpreply.Status, text string) *smtp.SMTPError {
	return &smtp.SMTPError{Code: st.Code, EnhancedCode: st.Enhanced, Message: text}
}

// Forwarder passes a bounce on to the rep who sent the copy, so that they
// still see what they saw before the gateway took the return path.
type Forwarder interface {
	ForwardBounce(ctx context.Context, rep string, msg []byte) error
}

// ListenerOptions configure the bounce listener. Addr, Domain, Keyring,
// Copies and Applier are required.
type ListenerOptions struct {
	Addr     string
	Domain   string // RCPT must be LocalPrefix+TOKEN@Domain
	Hostname string // for the greeting; Domain when empty
	Keyring  *token.Keyring
	Copies   Copies // the send ledger, where a return path's copy is found
	Applier  *Applier
	Forward  Forwarder // nil passes nothing on
	// MaxBytes bounds a message (DefaultMaxBytes when 0).
	MaxBytes int64
	// MaxConns and MaxConnsPerClient bound connections in all and from one
	// IPv4 address or IPv6 /64; more are answered 421.
	MaxConns, MaxConnsPerClient int
	// SessionTimeout bounds a connection, CommandTimeout each read and write.
	SessionTimeout, CommandTimeout time.Duration
	Now                            func() time.Time
	Log                            *slog.Logger
	// Observe, when set, is told what each report was: a Kind, or
	// "malformed" (for the metrics).
	Observe func(what string)
}

// Listener is the SMTP server of the bounce domain's MX: any sender
// (bounces come from the null path), no AUTH, only recipients that are
// valid return paths.
type Listener struct {
	o   ListenerOptions
	srv *smtp.Server
	ln  net.Listener
}

// NewListener listens on o.Addr.
func NewListener(o ListenerOptions) (*Listener, error) {
	if o.Keyring == nil || o.Domain == "" || o.Applier == nil || o.Copies == nil {
		return nil, errors.New("bounce: the listener needs a domain, a keyring, the send ledger and an applier")
	}
	o = listenerDefaults(o)
	ln, err := net.Listen("tcp", o.Addr)
	if err != nil {
		return nil, fmt.Errorf("bounce: listener: %w", err)
	}
	l := &Listener{o: o, ln: connlimit.NewListener(ln, o.MaxConns, o.MaxConnsPerClient)}
	s := smtp.NewServer(smtp.BackendFunc(l.newSession))
	s.Domain = o.Hostname
	s.MaxRecipients = maxRecipients
	s.MaxMessageBytes = o.MaxBytes
	s.MaxLineLength = maxLine
	s.ReadTimeout, s.WriteTimeout = o.CommandTimeout, o.CommandTimeout
	s.ErrorLog = log.New(io.Discard, "", 0)
	l.srv = s
	return l, nil
}

func listenerDefaults(o ListenerOptions) ListenerOptions {
	if o.Hostname == "" {
		o.Hostname = o.Domain
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Observe == nil {
		o.Observe = func(string) {}
	}
	if o.MaxBytes <= 0 {
		o.MaxBytes = DefaultMaxBytes
	}
	if o.MaxConns <= 0 {
		o.MaxConns = DefaultConns
	}
	if o.MaxConnsPerClient <= 0 {
		o.MaxConnsPerClient = DefaultPerClient
	}
	if o.SessionTimeout <= 0 {
		o.SessionTimeout = defaultSessionTimeout
	}
	if o.CommandTimeout <= 0 {
		o.CommandTimeout = defaultCommandTimeout
	}
	return o
}

// Addr is the address actually listened on.
func (l *Listener) Addr() net.Addr { return l.ln.Addr() }

// Serve runs until Shutdown.
func (l *Listener) Serve() error {
	if err := l.srv.Serve(l.ln); !errors.Is(err, smtp.ErrServerClosed) {
		return err
	}
	return nil
}

// Shutdown stops accepting and waits for running sessions until ctx ends.
func (l *Listener) Shutdown(ctx context.Context) error { return l.srv.Shutdown(ctx) }

func (l *Listener) newSession(c *smtp.Conn) (smtp.Session, error) {
	conn := c.Conn()
	cut := time.AfterFunc(l.o.SessionTimeout, func() { conn.Close() })
	ctx, cancel := context.WithCancel(context.Background())
	client, _, _ := net.SplitHostPort(conn.RemoteAddr().String())
	return &session{l: l, ctx: ctx, cancel: cancel, cut: cut, client: client}, nil
}

// session is one connection: the copies the current transaction's
// recipients name, each token already opened.
type session struct {
	l      *Listener
	ctx    context.Context
	cancel context.CancelFunc
	cut    *time.Timer
	client string
	copies []token.BounceClaims
}

func (s *session) Mail(string, *smtp.MailOptions) error { return nil }

// Rcpt accepts a return path with a token that opens and names a copy
// the ledger holds, and nothing else. No maximum age: a bounce can come
// days after the copy, and a replay changes nothing.
func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	tok, ok := TokenOf(to, s.l.o.Domain)
	if !ok {
		s.l.o.Log.Info("bounce: recipient refused", "client", s.client)
		return errNotHere
	}
	c, err := s.open(tok)
	if err != nil {
		return err
	}
	s.copies = append(s.copies, c)
	return nil
}

// open turns a token into the copy it names: a return-path token through
// the ledger, an older bounce token (copies sent before return paths
// were shortened) by what it sealed.
func (s *session) open(tok string) (token.BounceClaims, error) {
	h, err := s.l.o.Keyring.OpenReturnPath(tok)
	if err != nil {
		c, err := s.l.o.Keyring.OpenBounce(tok)
		if err != nil {
			s.l.o.Log.Info("bounce: invalid token", "client", s.client)
			return token.BounceClaims{}, errBadToken
		}
		return c, nil
	}
	ctx, cancel := context.WithTimeout(s.ctx, storeTimeout)
	defer cancel()
	c, err := copyOf(ctx, s.l.o.Copies, h)
	switch {
	case err == nil:
		return c, nil
	case !errors.Is(err, errNoCopy):
		s.l.o.Log.Error("bounce: the ledger did not answer", "ref", h.Ref, "err", err.Error())
		return token.BounceClaims{}, errLedger
	case s.l.o.Now().Sub(h.Day) < missingGrace:
		s.l.o.Log.Warn("bounce: the return path's copy is not in the ledger (yet)", "ref", h.Ref, "client", s.client)
		return token.BounceClaims{}, errLedger
	}
	s.l.o.Log.Info("bounce: the return path's copy is no longer in the ledger", "ref", h.Ref, "client", s.client)
	return token.BounceClaims{}, errBadToken
}

// Data reads the report, applies it to each copy named, then passes the
// message on to each copy's rep. A malformed report changes nothing but
// is still passed on and taken (250): it will not read better next time.
func (s *session) Data(r io.Reader) error {
	msg, err := io.ReadAll(r)
	if err != nil {
		var se *smtp.SMTPError
		if errors.As(err, &se) {
			return se
		}
		return errRead
	}
	ctx, cancel := context.WithTimeout(s.ctx, storeTimeout)
	defer cancel()
	rep, perr := Parse(bytes.NewReader(msg))
	if perr != nil {
		s.l.o.Observe(Malformed)
		s.l.o.Log.Warn("bounce: unreadable report ignored", "client", s.client, "err", perr.Error())
	} else {
		s.l.o.Observe(string(rep.Kind))
	}
	for _, c := range s.copies {
		if perr == nil {
			if err := s.apply(ctx, c, rep); err != nil {
				return err
			}
		}
		if err := s.forward(ctx, c, msg); err != nil {
			return err
		}
	}
	return nil
}

func (s *session) apply(ctx context.Context, c token.BounceClaims, rep Report) error {
	ch, err := s.l.o.Applier.Apply(ctx, c, rep, s.l.o.Now())
	if err != nil {
		s.l.o.Log.Error("bounce: recording failed", "ref", c.Ref, "err", err.Error())
		return errStore
	}
	s.l.o.Log.Info("bounce", "ref", c.Ref, "kind", string(rep.Kind), "format", rep.Format, "status", rep.Status,
		"feedback_type", rep.FeedbackType, "change", string(ch))
	return nil
}

func (s *session) forward(ctx context.Context, c token.BounceClaims, msg []byte) error {
	if s.l.o.Forward == nil {
		return nil
	}
	if err := s.l.o.Forward.ForwardBounce(ctx, c.Rep, msg); err != nil {
		s.l.o.Log.Error("bounce: passing the bounce on to the rep failed", "ref", c.Ref, "err", err.Error())
		return errForward
	}
	return nil
}

func (s *session) Reset() { s.copies = nil }

func (s *session) Logout() error {
	s.cut.Stop()
	s.cancel()
	return nil
}
