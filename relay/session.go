package relay

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dncgate/dncgate/country"
	"github.com/dncgate/dncgate/relay/upstream"
	"github.com/dncgate/dncgate/store"
	"github.com/emersion/go-smtp"
)

// backend makes the sessions of one listener.
type backend struct {
	srv *Server
	lst *listener
}

// session is one client connection's SMTP state from EHLO to QUIT (go-smtp
// starts a fresh one after STARTTLS).
type session struct {
	srv    *Server
	lst    *listener
	opts   *Options // the options in force when the session began (see Reload)
	conn   *trackedConn
	peer   netip.Addr
	secure bool
	ctx    context.Context // cancelled by Logout
	cancel context.CancelFunc
	log    *slog.Logger
	inTx   atomic.Bool // read by Auth without the lock (see Data)

	// mu guards what follows. With BDAT, go-smtp runs Data on its own
	// goroutine while Reset may come from the command loop; go-smtp closes
	// the data pipe before calling Reset, so Data returns and lets go.
	mu   sync.Mutex
	user *store.User
	how  string // "auth" or "trusted"
	tx   *transaction
}

// transaction is the per-message state, from MAIL to the end of DATA.
type transaction struct {
	ref   string
	start time.Time
	from  string
	opts  smtp.MailOptions
	rcpts []upstream.Rcpt
	// tickets are the recipients' cap reservations, by index of rcpts
	// (nil where no cap applied); nil once settled or released.
	tickets []CapTicket
	seen    map[string]bool
	// country is each accepted recipient's country as the recipient check
	// found it (by address as given at RCPT); the footer's language follows.
	country map[string]country.Code
	// dropped are the recipients left out in drop-and-notify mode, reported
	// to the rep once the message is through.
	dropped []dropped
	size    int
}

// NewSession implements smtp.Backend.
func (b *backend) NewSession(c *smtp.Conn) (smtp.Session, error) {
	tc := trackedOf(c.Conn())
	peer := peerAddr(c.Conn().RemoteAddr())
	_, secure := c.TLSConnectionState()
	ctx, cancel := context.WithCancel(b.srv.ctx)
	return &session{
		srv: b.srv, lst: b.lst, opts: b.srv.live.Load(), conn: tc, peer: peer, secure: secure,
		ctx: ctx, cancel: cancel,
		log: b.srv.log.With("listener", b.lst.cfg.Name, "client", peer.String()),
	}, nil
}

// trackedOf finds our connection under go-smtp's (possibly TLS) one.
func trackedOf(c net.Conn) *trackedConn {
	if tc, ok := c.(*tls.Conn); ok {
		c = tc.NetConn()
	}
	t, _ := c.(*trackedConn)
	return t
}

// Mail implements smtp.Session: guards, then the sender rules.
func (s *session) Mail(from string, opts *smtp.MailOptions) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.mayTransact(); err != nil {
		return toSMTP(err, "", s.log)
	}
	if !s.conn.startTx() {
		return toSMTP(refuse(stShuttingDown, "shutdown", "Service shutting down, try again later", nil), "", s.log)
	}
	s.beginTx(from, opts)
	if err := s.checkMailFrom(from, opts.UTF8); err != nil {
		return s.failTx(err)
	}
	return nil
}

// mayTransact checks TLS and identity: never an open relay. Without AUTH
// only a trusted network's mapped identity may send.
func (s *session) mayTransact() error {
	if err := txGate(s.lst.cfg.Mode, s.secure).err(); err != nil {
		return err
	}
	if s.user != nil {
		return nil
	}
	identity, ok := s.lst.trustedIdentity(s.peer)
	if !ok {
		return refuse(stAuthRequired, "auth-required", "Authentication required", nil)
	}
	return s.loadTrusted(identity)
}

func (s *session) loadTrusted(identity string) error {
	ctx, cancel := context.WithTimeout(s.ctx, authLookupTimeout)
	defer cancel()
	u, err := s.srv.trusted.User(ctx, strings.ToLower(identity))
	switch {
	case errors.Is(err, store.ErrNotFound):
		return refuse(stMisconfigured, "trusted-identity", "Trusted network identity unknown, ask the administrator",
			fmt.Errorf("identity %q of a trusted network is not a user", identity))
	case err != nil:
		return refuse(stLocal, "trusted-identity", "Temporary local problem, try again later", err)
	}
	s.user, s.how = &u, "trusted"
	return nil
}

func (s *session) setUser(u store.User, how string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.user, s.how = &u, how
}

func (s *session) beginTx(from string, opts *smtp.MailOptions) {
	s.tx = &transaction{ref: newRef(), start: s.opts.Now(), from: from, opts: *opts, seen: map[string]bool{}, country: map[string]country.Code{}}
	s.inTx.Store(true)
}

// checkMailFrom: the null sender is for bounces from mail systems (RFC 5321
// §4.5.5), never for a person submitting mail, so no account may use it.
func (s *session) checkMailFrom(from string, smtputf8 bool) error {
	if from == "" {
		return refuse(stSenderDenied, "sender", "<>: you may not send as this address", nil)
	}
	if err := checkAddr(from, smtputf8, stBadSender, "sender-syntax"); err != nil {
		return err
	}
	if !mayUse(s.user.SendAs, from) {
		return refuse(stSenderDenied, "sender", fmt.Sprintf("<%s>: you may not send as this address", safeAddr(from)), nil)
	}
	return nil
}

// Rcpt implements smtp.Session.
func (s *session) Rcpt(to string, opts *smtp.RcptOptions) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	tx := s.tx
	if tx == nil {
		return toSMTP(refuse(stBadSequence, "sequence", "MAIL first", nil), "", s.log)
	}
	key, err := s.checkRcpt(tx, to)
	if err != nil {
		return toSMTP(err, tx.ref, s.log.With("rcpt", safeAddr(to)))
	}
	// A person named again, in any spelling, must not mean a second copy,
	// nor a second slot: the key is their one normalised address.
	if tx.seen[key] {
		return nil
	}
	country, ticket, rerr := s.admit(tx, to)
	if rerr != nil {
		return s.refuseRcpt(tx, key, to, rerr)
	}
	tx.seen[key] = true
	tx.rcpts = append(tx.rcpts, upstream.Rcpt{Addr: to, Opts: *opts})
	tx.tickets = append(tx.tickets, ticket)
	tx.country[to] = country
	return nil
}

// admit runs the recipient check, then takes the recipient's cap slots
// with the country the check found.
func (s *session) admit(tx *transaction, to string) (country.Code, CapTicket, error) {
	cc, rerr := s.checkRecipient(tx, to)
	if rerr != nil {
		return country.None, nil, rerr
	}
	ticket, err := s.reserveCaps(tx, to, cc)
	if err != nil {
		return "", nil, err
	}
	return cc, ticket, nil
}

// refuseRcpt answers for a recipient that may not be written to. In
// drop-and-notify mode a permanent refusal is accepted and remembered for
// the rep's report; a temporary one is always answered at once, so that
// the client retries rather than the recipient being silently left out.
func (s *session) refuseRcpt(tx *transaction, key, to string, err error) error {
	log := s.log.With("rcpt", safeAddr(to))
	var re *replyError
	if s.lst.cfg.OnRefusal == DropAndNotify && errors.As(err, &re) && re.st.code/100 == 5 {
		logRefusal(log, re, tx.ref)
		tx.seen[key] = true
		tx.dropped = append(tx.dropped, dropped{addr: to, reply: re})
		return nil
	}
	return toSMTP(err, tx.ref, log)
}

// checkRcpt runs the guards every recipient passes before the check:
// syntax, the rerouting rule, the recipient limit. It returns the key
// that names the recipient in the transaction.
func (s *session) checkRcpt(tx *transaction, to string) (string, error) {
	if err := checkAddr(to, tx.opts.UTF8, stBadAddress, "rcpt-syntax"); err != nil {
		return "", err
	}
	key, err := recipientKey(s.opts.Recipients, to)
	if err != nil {
		return "", err
	}
	if max := s.opts.MaxRecipients; len(tx.rcpts)+len(tx.dropped) >= max {
		return "", refuse(stTooManyRcpts, "rcpt-limit", fmt.Sprintf("Too many recipients, at most %d per message", max), nil)
	}
	return key, nil
}

// Data implements smtp.Session: read with the limits and the line-ending
// rule, check the header, forward, and answer for every recipient at once.
func (s *session) Data(r io.Reader) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	tx := s.tx
	if tx == nil || len(tx.rcpts)+len(tx.dropped) == 0 {
		return toSMTP(refuse(stBadSequence, "sequence", "RCPT first", nil), "", s.log)
	}
	body, err := s.readBody(r)
	tx.size = len(body)
	if err != nil {
		return s.failTx(err)
	}
	if len(tx.rcpts) == 0 {
		return s.failTx(allDropped(tx.dropped))
	}
	if err := checkHeaders(body, s.user.SendAs); err != nil {
		return s.failTx(err)
	}
	return s.deliver(tx, body)
}

// readBody reads the whole message. go-smtp's reader already stops at
// MaxMessageBytes; the LimitedReader keeps the bound whatever feeds it.
func (s *session) readBody(r io.Reader) ([]byte, error) {
	limit := s.opts.MaxMessageBytes
	body, err := io.ReadAll(&io.LimitedReader{R: &strictReader{r: r}, N: limit + 1})
	tooBig := refuse(stTooBig, "size", fmt.Sprintf("Message too big, limit %d bytes", limit), err)
	switch {
	case err == nil && int64(len(body)) > limit:
		return nil, tooBig
	case err == nil:
		return body, nil
	case errors.Is(err, errBareLineEnd):
		return nil, refuse(stBareLineEnd, "line-ending", "Bare LF/CR not allowed in message", err)
	case errors.Is(err, smtp.ErrDataTooLarge):
		return nil, tooBig
	case errors.Is(err, smtp.ErrTooLongLine):
		return nil, refuse(stLineTooLong, "line-length",
			fmt.Sprintf("Line too long, limit %d bytes (RFC 5321 section 4.5.3.1.6)", s.opts.MaxLineLength), err)
	}
	return nil, refuse(stReadFailed, "read", "Error reading message, try again", err)
}

// failTx answers a refusal that ends the transaction.
func (s *session) failTx(err error) error {
	reply := toSMTP(err, s.tx.ref, s.log)
	s.endTx(fmt.Sprintf("refused %d", reply.Code))
	return reply
}

// endTx writes the transaction's log line and forgets it, giving back the
// cap slots that delivery did not settle.
func (s *session) endTx(outcome string) {
	tx := s.tx
	if tx == nil {
		return
	}
	s.releaseCaps(tx)
	s.log.Info("transaction", "ref", tx.ref, "user", s.userName(), "how", s.how,
		"from", safeAddr(tx.from), "rcpts", len(tx.rcpts), "size", tx.size,
		"outcome", outcome, "duration", s.opts.Now().Sub(tx.start))
	s.tx = nil
	s.inTx.Store(false)
	s.conn.endTx()
}

func (s *session) userName() string {
	if s.user == nil {
		return ""
	}
	return s.user.Email
}

// Reset implements smtp.Session (RSET, and go-smtp after every DATA).
func (s *session) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.endTx("aborted")
}

// Logout implements smtp.Session. It may run while Data forwards (the
// server closing the connection): cancelling the context stops the forward,
// and the lock is only taken when free.
func (s *session) Logout() error {
	s.cancel()
	if s.mu.TryLock() {
		s.endTx("aborted")
		s.mu.Unlock()
	}
	return nil
}
