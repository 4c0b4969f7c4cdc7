package relay

import (
	"context"
	"net/netip"
	"strings"
	"time"

	"github.com/dncgate/dncgate/auth"
	"github.com/dncgate/dncgate/smtpreply"
	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

const (
	mechPlain = "PLAIN"
	mechLogin = "LOGIN"

	authLookupTimeout = 10 * time.Second
)

// gate is what the connection's security allows.
type gate int

const (
	gateOpen           gate = iota // go ahead
	gateStartTLSFirst              // 530 5.7.0: issue STARTTLS first (RFC 3207 §4)
	gateNeedEncryption             // 538 5.7.11: no cleartext passwords (RFC 4954 §4, §6)
)

// authGate decides whether AUTH may be offered and used. Passwords cross the
// wire in clear with PLAIN and LOGIN, so they need TLS (RFC 4954 §4), except
// from a loopback peer, where nothing crosses a network, or where the
// operator allowed it. A starttls listener demands TLS of everyone.
func authGate(mode TLSMode, secure, allowInsecure bool, peer netip.Addr) gate {
	switch {
	case secure:
		return gateOpen
	case mode == ModeStartTLS:
		return gateStartTLSFirst
	case allowInsecure || peer.Unmap().IsLoopback():
		return gateOpen
	}
	return gateNeedEncryption
}

// txGate decides whether a mail transaction may start.
func txGate(mode TLSMode, secure bool) gate {
	if mode == ModeStartTLS && !secure {
		return gateStartTLSFirst
	}
	return gateOpen
}

func (g gate) err() error {
	switch g {
	case gateStartTLSFirst:
		return smtpreply.New(smtpreply.NoAuth, smtpreply.TLSRequired, "Must issue a STARTTLS command first", nil)
	case gateNeedEncryption:
		return smtpreply.New(smtpreply.NeedEncryption, smtpreply.TLSRequired, "Encryption required for requested authentication mechanism", nil)
	}
	return nil
}

// AuthMechanisms implements smtp.AuthSession; an empty list keeps AUTH out
// of the EHLO reply where it may not be used.
func (s *session) AuthMechanisms() []string {
	if s.authGate() != gateOpen {
		return nil
	}
	return []string{mechPlain, mechLogin}
}

// Auth implements smtp.AuthSession.
func (s *session) Auth(mech string) (sasl.Server, error) {
	if err := s.authGate().err(); err != nil {
		s.srv.opts.Metrics.authFailed(smtpreply.TLSRequired)
		return nil, s.reply(err, "", s.log)
	}
	if s.inTx.Load() { // RFC 4954 §4: not during a mail transaction
		return nil, s.reply(smtpreply.New(smtpreply.BadSequence, smtpreply.Sequence, "AUTH not permitted during a mail transaction", nil), "", s.log)
	}
	switch strings.ToUpper(mech) {
	case mechPlain:
		return sasl.NewPlainServer(s.authPlain), nil
	case mechLogin:
		return &loginServer{authenticate: s.authenticate}, nil
	}
	return nil, smtp.ErrAuthUnknownMechanism
}

func (s *session) authGate() gate {
	return authGate(s.lst.cfg.Mode, s.secure, s.lst.cfg.AllowInsecureAuth, s.peer)
}

func (s *session) authPlain(identity, username, password string) error {
	if identity != "" && !strings.EqualFold(identity, username) {
		// Acting for another user (RFC 4616 §2) is not offered.
		s.srv.opts.Metrics.authFailed(smtpreply.AuthFailed)
		return s.reply(smtpreply.New(smtpreply.BadCredentials, smtpreply.AuthFailed, "Authentication credentials invalid", nil), "", s.log)
	}
	return s.authenticate(username, password)
}

// authenticate checks a login through the shared Authenticator and makes
// it the session's user. Failures all read alike to the client; the log
// tells them apart.
func (s *session) authenticate(username, password string) error {
	ctx, cancel := context.WithTimeout(s.ctx, authLookupTimeout)
	defer cancel()
	r := s.srv.login.Login(ctx, auth.Attempt{User: username, Password: password, Client: s.peer})
	if r.Outcome != auth.Accepted {
		s.budget(s.log).Warn("auth failed", "user", logName(r.Name), "reason", r.Outcome.String(), "err", r.Cause)
		e := loginRefusal(r.Outcome)
		s.srv.opts.Metrics.authFailed(smtpreply.As(e).Reason)
		return s.strike(smtpreply.Reply(e, "")) // logged above: once is enough
	}
	s.setUser(r.User, "auth")
	s.log.Info("auth ok", "user", r.User.Email)
	return nil
}

// loginRefusal is the reply to a login that did not succeed: 535 for
// wrong credentials, 454 for a lock-out or a store that cannot answer
// (RFC 4954 §6), which the client may retry later.
func loginRefusal(o auth.Outcome) error {
	switch o {
	case auth.Refused:
		return smtpreply.New(smtpreply.BadCredentials, smtpreply.AuthFailed, "Authentication credentials invalid", nil)
	case auth.Locked:
		return smtpreply.New(smtpreply.AuthTemp, smtpreply.AuthThrottled, "Too many authentication failures, try later", nil)
	}
	return smtpreply.New(smtpreply.AuthTemp, smtpreply.StoreError, "Temporary authentication failure", nil)
}

// logName bounds what a client typed as a user name before it is logged.
func logName(name string) string {
	return safeAddr(smtpreply.ClientText(name, 64))
}

// loginServer is the server side of the LOGIN mechanism
// (draft-murchison-sasl-login): the client sends the user name and then the
// password, each after a prompt. Outlook and older clients still use it.
type loginServer struct {
	authenticate func(username, password string) error
	username     string
	step         int
}

func (l *loginServer) Next(response []byte) (challenge []byte, done bool, err error) {
	switch l.step {
	case 0:
		l.step = 1
		if response == nil {
			return []byte("Username:"), false, nil
		}
		fallthrough
	case 1:
		l.username = string(response)
		l.step = 2
		return []byte("Password:"), false, nil
	case 2:
		l.step = 3
		return nil, true, l.authenticate(l.username, string(response))
	}
	return nil, false, sasl.ErrUnexpectedClientResponse
}
