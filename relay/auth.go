package relay

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/dncgate/dncgate/smtpreply"
	"github.com/dncgate/dncgate/store"
	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
	"golang.org/x/crypto/bcrypt"
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
		return nil, toSMTP(err, "", s.log)
	}
	if s.inTx.Load() { // RFC 4954 §4: not during a mail transaction
		return nil, toSMTP(smtpreply.New(smtpreply.BadSequence, smtpreply.Sequence, "AUTH not permitted during a mail transaction", nil), "", s.log)
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
		return toSMTP(smtpreply.New(smtpreply.BadCredentials, smtpreply.AuthFailed, "Authentication credentials invalid", nil), "", s.log)
	}
	return s.authenticate(username, password)
}

// authenticate checks a login and makes it the session's user. Failures all
// read alike to the client; the log tells them apart.
func (s *session) authenticate(username, password string) error {
	name := strings.ToLower(strings.TrimSpace(username))
	keys := newAuthKeys(s.peer, name)
	ctx, cancel := context.WithTimeout(s.ctx, authLookupTimeout)
	defer cancel()
	if err := s.srv.thr.before(ctx, keys); err != nil {
		s.log.Warn("auth refused", "user", logName(name), "reason", "throttled")
		return smtpreply.Reply(err, "") // logged: once is enough
	}
	u, err := s.srv.verify(ctx, name, password)
	if err != nil {
		return s.authFailed(ctx, keys, name, err)
	}
	s.srv.thr.succeeded(ctx, keys)
	s.setUser(u, "auth")
	s.log.Info("auth ok", "user", u.Email)
	return nil
}

func (s *session) authFailed(ctx context.Context, keys authKeys, name string, err error) error {
	var re *smtpreply.Error
	if errors.As(err, &re) && re.Status == smtpreply.BadCredentials {
		s.srv.thr.failed(ctx, keys)
	}
	s.log.Warn("auth failed", "user", logName(name), "err", err)
	return smtpreply.Reply(err, "") // logged: once is enough
}

// logName bounds what a client typed as a user name before it is logged.
func logName(name string) string {
	return safeAddr(smtpreply.ClientText(name, 64))
}

// Causes of a 535, told apart in the log only.
var (
	errUnknownUser   = errors.New("unknown user")
	errWrongPassword = errors.New("password does not match")
)

// verify returns the user when the password matches. An unknown user costs
// one bcrypt comparison too, against a dummy hash of the same cost, so that
// timing does not reveal which accounts exist.
func (s *Server) verify(ctx context.Context, name, password string) (store.User, error) {
	failed := func(cause error) error {
		return smtpreply.New(smtpreply.BadCredentials, smtpreply.AuthFailed, "Authentication credentials invalid", cause)
	}
	u, err := s.users.User(ctx, name)
	if errors.Is(err, store.ErrNotFound) || (err == nil && len(u.PasswordHash) == 0) {
		_ = bcrypt.CompareHashAndPassword(s.dummy.hash(), []byte(password))
		return store.User{}, failed(errUnknownUser)
	}
	if err != nil {
		return store.User{}, smtpreply.New(smtpreply.AuthTemp, smtpreply.StoreError, "Temporary authentication failure", err)
	}
	s.dummy.seen(u.PasswordHash)
	if bcrypt.CompareHashAndPassword(u.PasswordHash, []byte(password)) != nil {
		return store.User{}, failed(errWrongPassword)
	}
	return u, nil
}

// dummyHash holds a bcrypt hash of a random password at the cost the real
// hashes use (the last one seen), made on first need.
type dummyHash struct {
	mu     sync.Mutex
	cost   int
	hashes map[int][]byte
}

func newDummyHash() *dummyHash {
	return &dummyHash{cost: bcrypt.DefaultCost, hashes: map[int][]byte{}}
}

func (d *dummyHash) seen(hash []byte) {
	if c, err := bcrypt.Cost(hash); err == nil {
		d.mu.Lock()
		d.cost = c
		d.mu.Unlock()
	}
}

func (d *dummyHash) hash() []byte {
	d.mu.Lock()
	defer d.mu.Unlock()
	if h, ok := d.hashes[d.cost]; ok {
		return h
	}
	h, err := bcrypt.GenerateFromPassword([]byte(newRef()+newRef()), d.cost)
	if err != nil {
		h = []byte{} // comparison then fails fast; still refuses
	}
	d.hashes[d.cost] = h
	return h
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
