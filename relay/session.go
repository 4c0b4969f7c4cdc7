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
	"github.com/dncgate/dncgate/internal/connlimit"
	"github.com/dncgate/dncgate/ledger"
	"github.com/dncgate/dncgate/relay/upstream"
	"github.com/dncgate/dncgate/smtpreply"
	"github.com/dncgate/dncgate/store"
	"github.com/dncgate/dncgate/suppression"
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
	helo   string // the client's EHLO or HELO argument
	secure bool
	ctx    context.Context // cancelled by Logout
	cancel context.CancelFunc
	log    *slog.Logger
	// strikes are the connection's, shared by the sessions before and
	// after STARTTLS.
	strikes *strikes
	inTx    atomic.Bool // read by Auth without the lock (see Data)
	closed  atomic.Bool // Logout ran

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
	// language is each recipient's language as its CRM contact gives it.
	language map[string]string
	// decisions are the ledger's records of the accepted recipients, by
	// index of rcpts, written before the copies leave.
	decisions []ledger.Decision
	// record is their write, started at DATA (see Data); nil until then.
	// forwarded is set once the copies went to the forwarder, which
	// settles the records' outcomes.
	record    *pendingRecord
	forwarded bool
	// dropped are the recipients left out in drop-and-notify mode, reported
	// to the rep once the message is through; left holds their keys.
	dropped []dropped
	left    map[string]bool
	// acked counts the RCPTs answered nil, the ones go-smtp counts.
	acked int
	size  int
}

// NewSession implements smtp.Backend.
func (b *backend) NewSession(c *smtp.Conn) (smtp.Session, error) {
	tc := trackedOf(c.Conn())
	peer := connlimit.Peer(c.Conn().RemoteAddr())
	_, secure := c.TLSConnectionState()
	ctx, cancel := context.WithCancel(b.srv.ctx)
	st := &strikes{}
	if tc != nil {
		st = &tc.strikes
	}
	b.srv.opts.Metrics.sessionOpened()
	return &session{
		srv: b.srv, lst: b.lst, opts: b.srv.live.Load(), conn: tc, peer: peer, helo: c.Hostname(), secure: secure,
		ctx: ctx, cancel: cancel, strikes: st,
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
		return s.reply(err, "", s.log)
	}
	if !s.conn.startTx() {
		return s.reply(smtpreply.New(smtpreply.ShuttingDown, smtpreply.Shutdown, "Service shutting down, try again later", nil), "", s.log)
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
	if s.user != nil && s.how == "auth" {
		return s.reloadUser()
	}
	if s.user != nil {
		return nil
	}
	identity, ok := s.lst.trustedIdentity(s.peer)
	if !ok {
		return smtpreply.New(smtpreply.NoAuth, smtpreply.AuthRequired, "Authentication required", nil)
	}
	return s.loadTrusted(identity)
}

// reloadUser reads a logged-in user again at each transaction, through
// the identity cache (a second old at most), so that a user disabled since
// their AUTH sends no more on a connection kept open, and a changed
// send-as list applies at once. A store that cannot answer, or no longer
// has the user (removed, or flushed by accident), leaves the session as it
// was: the recipient check fails closed on such a store anyway, and the
// session carries on once it is back, as it did before this read.
func (s *session) reloadUser() error {
	ctx, cancel := context.WithTimeout(s.ctx, authLookupTimeout)
	defer cancel()
	u, err := s.srv.trusted.User(ctx, s.user.Email)
	switch {
	case err != nil:
		s.log.Debug("user not read again at MAIL", "user", logName(s.user.Email), "err", err)
		return nil
	case u.Disabled:
		s.user, s.how = nil, "" // Mail holds s.mu
		return smtpreply.New(smtpreply.NoAuth, smtpreply.AuthRequired, "Authentication required",
			errors.New("the logged-in user was disabled"))
	}
	s.user = &u
	return nil
}

func (s *session) loadTrusted(identity string) error {
	ctx, cancel := context.WithTimeout(s.ctx, authLookupTimeout)
	defer cancel()
	u, err := s.srv.trusted.User(ctx, strings.ToLower(identity))
	switch {
	case errors.Is(err, store.ErrNotFound):
		return smtpreply.New(smtpreply.Misconfigured, smtpreply.TrustedIdentity, "Trusted network identity unknown, ask the administrator",
			fmt.Errorf("identity %q of a trusted network is not a user", identity))
	case err != nil:
		return smtpreply.New(smtpreply.Local, smtpreply.StoreError, "Temporary local problem, try again later", err)
	case u.Disabled:
		return smtpreply.New(smtpreply.Misconfigured, smtpreply.TrustedIdentity, "Trusted network identity disabled, ask the administrator",
			fmt.Errorf("identity %q of a trusted network is a disabled user", identity))
	}
	s.user, s.how = &u, "trusted"
	s.conn.authenticated()
	return nil
}

func (s *session) setUser(u store.User, how string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.user, s.how = &u, how
	s.conn.authenticated()
}

func (s *session) beginTx(from string, opts *smtp.MailOptions) {
	s.tx = &transaction{ref: newRef(), start: s.opts.Now(), from: from, opts: *opts,
		seen: map[string]bool{}, left: map[string]bool{}, country: map[string]country.Code{}, language: map[string]string{}}
	s.inTx.Store(true)
}

// checkMailFrom: the null sender is for bounces from mail systems (RFC 5321
// §4.5.5), never for a person submitting mail, so no account may use it.
func (s *session) checkMailFrom(from string, smtputf8 bool) error {
	if from == "" {
		return smtpreply.New(smtpreply.SenderDenied, smtpreply.SenderRule, "<>: you may not send as this address", nil)
	}
	if err := checkAddr(from, smtputf8, smtpreply.BadSender); err != nil {
		return err
	}
	if !mayUse(s.user.SendAs, from) {
		return smtpreply.New(smtpreply.SenderDenied, smtpreply.SenderRule, smtpreply.Path(from)+": you may not send as this address", nil)
	}
	return nil
}

// Rcpt implements smtp.Session.
func (s *session) Rcpt(to string, opts *smtp.RcptOptions) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	tx := s.tx
	if tx == nil {
		return s.reply(smtpreply.New(smtpreply.BadSequence, smtpreply.Sequence, "MAIL first", nil), "", s.log)
	}
	key, err := s.checkRcpt(tx, to)
	if err != nil {
		s.srv.opts.Metrics.recipient(smtpreply.As(err))
		return s.reply(err, tx.ref, s.rcptLog(to))
	}
	// A person named again, in any spelling, must not mean a second copy,
	// nor a second slot: the key is their one normalised address.
	if tx.seen[key] {
		return tx.ack(tx.left[key])
	}
	v, ticket, rerr := s.admit(tx, to)
	if rerr != nil {
		return s.refuseRcpt(tx, key, to, v, rerr)
	}
	tx.seen[key] = true
	tx.rcpts = append(tx.rcpts, upstream.Rcpt{Addr: to, Opts: *opts})
	tx.tickets = append(tx.tickets, ticket)
	tx.country[to], tx.language[to] = v.Country, v.Language
	if s.opts.Ledger != nil {
		tx.decisions = append(tx.decisions, s.decision(tx, to, v, nil))
	}
	s.srv.opts.Metrics.recipient(nil)
	return tx.ack(false)
}

// ack answers a RCPT that is taken. A recipient that will be left out must
// not hear go-smtp's "I'll make sure <addr> gets this", so it gets "250
// 2.1.5 Recipient ok". go-smtp counts only the RCPTs answered nil, though,
// and refuses DATA without one: the first taken RCPT of a transaction is
// answered nil whatever it is, so that DATA still comes and its reply
// says who was left out.
func (tx *transaction) ack(leftOut bool) error {
	if tx.acked > 0 && leftOut {
		return smtpreply.Success(smtpreply.RecipientOK, "Recipient ok", "")
	}
	tx.acked++
	return nil
}

// rcptLog is the session's log for one recipient, its address masked.
func (s *session) rcptLog(to string) *slog.Logger {
	return s.log.With("rcpt", logAddr(to), "rep", s.userName())
}

// admit runs the recipient check, then takes the recipient's cap slots
// with the country the check found. The verdict comes back with a
// refusal too, for its record.
func (s *session) admit(tx *transaction, to string) (suppression.Verdict, CapTicket, error) {
	v, rerr := s.checkRecipient(tx, to)
	if rerr != nil {
		return v, nil, rerr
	}
	ticket, err := s.reserveCaps(tx, to, v.Country)
	if err != nil {
		return v, nil, err
	}
	return v, ticket, nil
}

// refuseRcpt answers for a recipient that may not be written to. In
// drop-and-notify mode a permanent refusal is accepted and remembered for
// the rep's report; a temporary one is always answered at once, so that
// the client retries rather than the recipient being silently left out.
// Either is the gateway's decision, not the client's error: it is logged
// in full and does not count toward the error limit. Either way the
// decision is recorded first; when it cannot be, the recipient gets
// 451 4.3.0 instead.
func (s *session) refuseRcpt(tx *transaction, key, to string, v suppression.Verdict, err error) error {
	log := s.rcptLog(to)
	e := smtpreply.As(err)
	s.srv.opts.Metrics.recipient(e)
	leftOut := s.lst.cfg.OnRefusal == DropAndNotify && !e.Temporary()
	if lerr := s.recordRefusal(tx, to, v, e, leftOut); lerr != nil {
		return toSMTP(lerr, tx.ref, log)
	}
	if !leftOut {
		return toSMTP(e, tx.ref, log)
	}
	logRefusal(log, "left out", e, tx.ref)
	tx.seen[key], tx.left[key] = true, true
	tx.dropped = append(tx.dropped, dropped{addr: to, reply: e})
	return tx.ack(true)
}

// checkRcpt runs the guards every recipient passes before the check:
// syntax, the rerouting rule, the recipient limit. It returns the key
// that names the recipient in the transaction.
func (s *session) checkRcpt(tx *transaction, to string) (string, error) {
	if err := checkAddr(to, tx.opts.UTF8, smtpreply.BadAddress); err != nil {
		return "", err
	}
	key, err := recipientKey(s.opts.Recipients, to)
	if err != nil {
		return "", err
	}
	if max := s.opts.MaxRecipients; len(tx.rcpts)+len(tx.dropped) >= max {
		return "", smtpreply.New(smtpreply.TooManyRcpts, smtpreply.RcptLimit, fmt.Sprintf("Too many recipients, at most %d per message", max), nil)
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
		return s.reply(smtpreply.New(smtpreply.BadSequence, smtpreply.Sequence, "RCPT first", nil), "", s.log)
	}
	// The records' commit starts now, while the body comes in and the
	// copies are made; the subject, when kept, must wait for the body.
	if !s.opts.LedgerSubject {
		tx.record = s.startRecord(tx, nil)
	}
	err := s.data(tx, r)
	if tx.record != nil && !tx.forwarded {
		s.recordNotSent(tx, err) // refused before any copy left
	}
	return err
}

func (s *session) data(tx *transaction, r io.Reader) error {
	body, err := s.readBody(r)
	tx.size = len(body)
	if err != nil {
		return s.failTx(err)
	}
	if len(tx.rcpts) == 0 { // the check's decision: no client error
		return s.endRefused(allDropped(tx.dropped))
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
	tooBig := smtpreply.New(smtpreply.TooBig, smtpreply.SizeLimit, fmt.Sprintf("Message too big, limit %d bytes", limit), err)
	switch {
	case err == nil && int64(len(body)) > limit:
		return nil, tooBig
	case err == nil:
		return body, nil
	case errors.Is(err, errBareLineEnd):
		return nil, smtpreply.New(smtpreply.BareLineEnd, smtpreply.LineEnding, "Bare LF/CR not allowed in message", err)
	case errors.Is(err, errNUL):
		return nil, smtpreply.New(smtpreply.NULByte, smtpreply.NUL, "Message contains NUL bytes (RFC 6152 / RFC 5322)", err)
	case errors.Is(err, smtp.ErrDataTooLarge):
		return nil, tooBig
	case errors.Is(err, smtp.ErrTooLongLine):
		return nil, smtpreply.New(smtpreply.LineTooLong, smtpreply.LineLength,
			fmt.Sprintf("Line too long, limit %d bytes (RFC 5321 section 4.5.3.1.6)", s.opts.MaxLineLength), err)
	}
	return nil, smtpreply.New(smtpreply.ConnLost, smtpreply.ReadFailed, "Error reading message, try again", err)
}

// failTx answers a refusal that ends the transaction, and counts it as the
// client's error. The transaction's line is the refusal's one line.
func (s *session) failTx(err error) error {
	return s.strike(s.endRefused(err))
}

// endRefused ends the transaction with a refusal that is no client error.
func (s *session) endRefused(err error) *smtp.SMTPError {
	e := smtpreply.As(err)
	ref := s.tx.ref
	s.endTx("refused", e)
	return smtpreply.Reply(e, ref)
}

// endTx writes the transaction's log line, with the refusal that ended it
// if any, and forgets it, giving back the cap slots that delivery did not
// settle.
func (s *session) endTx(outcome string, refusal *smtpreply.Error) {
	tx := s.tx
	if tx == nil {
		return
	}
	s.releaseCaps(s.ctx, tx)
	attrs := []any{"user", s.userName(), "how", s.how, "from", safeAddr(tx.from),
		"rcpts", len(tx.rcpts), "left_out", len(tx.dropped), "size", tx.size,
		"outcome", outcome, "duration", s.opts.Now().Sub(tx.start)}
	if refusal != nil {
		logRefusal(s.log, "transaction", refusal, tx.ref, attrs...)
	} else {
		s.log.Info("transaction", append([]any{"ref", tx.ref}, attrs...)...)
	}
	if outcome != "aborted" {
		s.srv.opts.Metrics.message(refusal)
	}
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
	s.endTx("aborted", nil)
}

// Logout implements smtp.Session. It may run while Data forwards (the
// server closing the connection): cancelling the context stops the forward,
// and the lock is only taken when free.
func (s *session) Logout() error {
	s.cancel()
	if !s.closed.Swap(true) {
		s.srv.opts.Metrics.sessionClosed()
	}
	s.logSuppressed()
	if s.mu.TryLock() {
		s.endTx("aborted", nil)
		s.mu.Unlock()
	}
	return nil
}
