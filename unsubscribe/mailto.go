package unsubscribe

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"strings"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/dncgate/dncgate/internal/connlimit"
	"github.com/dncgate/dncgate/lists"
	"github.com/dncgate/dncgate/unsubscribe/token"
)

// Limits of the mailto listener: an unsubscribe mail is small and quick,
// and nobody needs more than a few at once.
const (
	DefaultMailtoConns     = 32
	DefaultMailtoPerClient = 4
	defaultSessionTimeout  = 2 * time.Minute
	defaultCommandTimeout  = time.Minute
	mailtoMaxRecipients    = 10
	mailtoMaxBody          = 64 << 10
	mailtoMaxLine          = 2000 // RFC 5321 §4.5.3.1.6 allows 1000; some clients fold late
	mailtoLocalPrefix      = "unsubscribe+"
	codeMailtoTempFail     = 451
	codeMailtoRefused      = 550
)

// Replies of the mailto listener (RFC 3463 enhanced codes).
var (
	// errNotHere: anything but unsubscribe+TOKEN@domain, so the listener
	// is never a relay.
	errNotHere = &smtp.SMTPError{Code: codeMailtoRefused, EnhancedCode: smtp.EnhancedCode{5, 7, 1},
		Message: "This server only takes unsubscribe requests"}
	errBadToken = &smtp.SMTPError{Code: codeMailtoRefused, EnhancedCode: smtp.EnhancedCode{5, 1, 1},
		Message: "No such unsubscribe address"}
	errExpiredToken = &smtp.SMTPError{Code: codeMailtoRefused, EnhancedCode: smtp.EnhancedCode{5, 7, 1},
		Message: "This unsubscribe address has expired: reply to the message you received and ask to be removed"}
	errStoreDown = &smtp.SMTPError{Code: codeMailtoTempFail, EnhancedCode: smtp.EnhancedCode{4, 3, 0},
		Message: "Temporary failure, please retry"}
	errReadBody = &smtp.SMTPError{Code: codeMailtoTempFail, EnhancedCode: smtp.EnhancedCode{4, 4, 2},
		Message: "Error reading the message"}
)

// MailtoOptions configure the mailto listener. Addr, Domain, Keyring, Org
// and OptOuts are required.
type MailtoOptions struct {
	Addr     string // host:port to listen on
	Domain   string // the mailto domain: RCPT must be unsubscribe+TOKEN@Domain
	Hostname string // for the greeting; Domain when empty
	Keyring  *token.Keyring
	Org      string
	// EarlierOrgs are still accepted, as by the web endpoint.
	EarlierOrgs []string
	MaxAge      time.Duration // 0 accepts any age
	OptOuts     OptOuts
	Audit       Audit // when set, told of each opt-out (source mailto)
	Now         func() time.Time
	Log         *slog.Logger
	// MaxConns bounds concurrent connections (DefaultMailtoConns when 0),
	// MaxConnsPerClient those from one IPv4 address or IPv6 /64
	// (DefaultMailtoPerClient when 0); more are answered 421 and closed.
	MaxConns, MaxConnsPerClient int
	// SessionTimeout bounds a whole connection, CommandTimeout each read
	// and write; defaults 2 minutes and 1 minute.
	SessionTimeout, CommandTimeout time.Duration
}

// Mailto is the SMTP listener for mailto unsubscribes (RFC 2369 §3.2): it
// takes any sender, no AUTH, only recipients unsubscribe+TOKEN@Domain,
// discards the message and opts each token's recipient out at the end of
// DATA.
type Mailto struct {
	o      MailtoOptions
	opener opener
	srv    *smtp.Server
	ln     net.Listener
}

// NewMailto listens on o.Addr.
func NewMailto(o MailtoOptions) (*Mailto, error) {
	if o.Keyring == nil || o.Org == "" || o.OptOuts == nil || o.Domain == "" {
		return nil, errors.New("unsubscribe: the mailto listener needs a domain, a keyring, an organisation and an opt-out store")
	}
	o = mailtoDefaults(o)
	ln, err := net.Listen("tcp", o.Addr)
	if err != nil {
		return nil, fmt.Errorf("unsubscribe: mailto listener: %w", err)
	}
	m := &Mailto{o: o, opener: opener{o.Keyring, append([]string{o.Org}, o.EarlierOrgs...), o.MaxAge, o.Now}, ln: connlimit.NewListener(ln, o.MaxConns, o.MaxConnsPerClient)}
	s := smtp.NewServer(smtp.BackendFunc(m.newSession))
	s.Domain = o.Hostname
	s.MaxRecipients = mailtoMaxRecipients
	s.MaxMessageBytes = mailtoMaxBody
	s.MaxLineLength = mailtoMaxLine
	s.ReadTimeout, s.WriteTimeout = o.CommandTimeout, o.CommandTimeout
	s.ErrorLog = log.New(io.Discard, "", 0)
	m.srv = s
	return m, nil
}

func mailtoDefaults(o MailtoOptions) MailtoOptions {
	if o.Hostname == "" {
		o.Hostname = o.Domain
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.MaxConns <= 0 {
		o.MaxConns = DefaultMailtoConns
	}
	if o.MaxConnsPerClient <= 0 {
		o.MaxConnsPerClient = DefaultMailtoPerClient
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
func (m *Mailto) Addr() net.Addr { return m.ln.Addr() }

// Serve runs until Shutdown.
func (m *Mailto) Serve() error {
	if err := m.srv.Serve(m.ln); !errors.Is(err, smtp.ErrServerClosed) {
		return err
	}
	return nil
}

// Shutdown stops accepting and waits for running sessions until ctx ends.
func (m *Mailto) Shutdown(ctx context.Context) error { return m.srv.Shutdown(ctx) }

func (m *Mailto) newSession(c *smtp.Conn) (smtp.Session, error) {
	conn := c.Conn()
	// The whole session is bounded, however slowly the client trickles.
	cut := time.AfterFunc(m.o.SessionTimeout, func() { conn.Close() })
	ctx, cancel := context.WithCancel(context.Background())
	client, _, _ := net.SplitHostPort(conn.RemoteAddr().String())
	return &mailtoSession{m: m, ctx: ctx, cancel: cancel, cut: cut, client: client}, nil
}

// mailtoSession is one connection: the recipients of the current
// transaction, each a token already checked.
type mailtoSession struct {
	m      *Mailto
	ctx    context.Context
	cancel context.CancelFunc
	cut    *time.Timer
	client string
	rcpts  []string
}

func (s *mailtoSession) Mail(string, *smtp.MailOptions) error { return nil }

// Rcpt accepts unsubscribe+TOKEN@Domain with a valid token and nothing
// else.
func (s *mailtoSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	tok, ok := s.m.tokenOf(to)
	if !ok {
		s.m.o.Log.Info("unsubscribe mailto: recipient refused", "client", s.client)
		return errNotHere
	}
	c, err := s.m.opener.open(tok)
	switch {
	case errors.Is(err, token.ErrExpired):
		s.m.o.Log.Info("unsubscribe mailto: expired address", "rcpt", lists.MaskEmail(c.Recipient), "client", s.client)
		return errExpiredToken
	case err != nil:
		s.m.o.Log.Info("unsubscribe mailto: invalid token", "client", s.client)
		return errBadToken
	}
	s.rcpts = append(s.rcpts, c.Recipient)
	return nil
}

// tokenOf returns TOKEN from unsubscribe+TOKEN@Domain. The prefix and the
// domain match in any case; the token is case-sensitive.
func (m *Mailto) tokenOf(addr string) (string, bool) {
	at := strings.LastIndexByte(addr, '@')
	if at < 0 || !strings.EqualFold(addr[at+1:], m.o.Domain) {
		return "", false
	}
	local := addr[:at]
	if len(local) <= len(mailtoLocalPrefix) || !strings.EqualFold(local[:len(mailtoLocalPrefix)], mailtoLocalPrefix) {
		return "", false
	}
	return local[len(mailtoLocalPrefix):], true
}

// Data discards the message and records the opt-outs: the request is the
// envelope, whatever the body says (RFC 2369 §3.2 leaves it free).
func (s *mailtoSession) Data(r io.Reader) error {
	if _, err := io.Copy(io.Discard, r); err != nil {
		var se *smtp.SMTPError
		if errors.As(err, &se) {
			return se
		}
		return errReadBody
	}
	ctx, cancel := context.WithTimeout(s.ctx, storeTimeout)
	defer cancel()
	for _, rcpt := range s.rcpts {
		if err := s.m.o.OptOuts.OptOut(ctx, rcpt); err != nil {
			s.m.o.Log.Error("unsubscribe mailto: recording the opt-out failed", "rcpt", lists.MaskEmail(rcpt), "err", err)
			return errStoreDown
		}
		s.m.o.Log.Info("unsubscribed", "rcpt", lists.MaskEmail(rcpt), "via", viaMailto)
		audit(ctx, s.m.o.Audit, s.m.o.Log, rcpt, viaMailto)
	}
	return nil
}

func (s *mailtoSession) Reset() { s.rcpts = nil }

func (s *mailtoSession) Logout() error {
	s.cut.Stop()
	s.cancel()
	return nil
}
