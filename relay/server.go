package relay

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/dncgate/dncgate/internal/proxied"
	"github.com/dncgate/dncgate/ledger"
	"github.com/emersion/go-smtp"
)

// Server is the submission relay: one go-smtp server per listener, sharing
// users, the authenticator, connection limits and the forwarder.
type Server struct {
	opts     Options                 // as started; what Reload cannot change is read here
	live     atomic.Pointer[Options] // what new sessions use
	users    Users
	trusted  *identityCache // the accounts trusted networks act as
	fwd      Forwarder
	log      *slog.Logger
	login    Authenticator
	conns    *connTable
	lsts     []*listener
	ctx      context.Context // parent of every session's; cancelled when Shutdown gives up
	cancel   context.CancelFunc
	shutOnce sync.Once
	closing  atomic.Bool
	outcomes *background          // the ledger's outcome writes, after the replies
	rcptKeys *ledger.RcptDigester // the ledger's recipient digests, under LedgerKey
}

// listener is a configured listener at run time.
type listener struct {
	cfg  Listener
	ln   *limitListener
	smtp *smtp.Server
	// tls is the TLS configuration handshakes use from now on (nil on a
	// listener without TLS); Reload replaces it, so that a renewed
	// certificate is served without closing the socket.
	tls atomic.Pointer[tls.Config]
}

// New checks the options, applies defaults and opens every listening socket
// (so that Addrs is known before Serve).
func New(o Options, users Users, login Authenticator, fwd Forwarder, log *slog.Logger) (*Server, error) {
	o = o.withDefaults()
	if err := o.validate(); err != nil {
		return nil, err
	}
	if users == nil || login == nil || fwd == nil || log == nil {
		return nil, errors.New("relay: users, authenticator, forwarder and logger are required")
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{
		opts: o, users: users, fwd: fwd, log: log,
		trusted: newIdentityCache(users, o.Now),
		login:   login, conns: newConnTable(o), ctx: ctx, cancel: cancel,
		outcomes: newBackground(maxOutcomeWrites),
		rcptKeys: ledger.NewRcptDigester(o.LedgerKey),
	}
	s.live.Store(&o)
	for _, lc := range o.Listeners {
		l, err := s.listen(lc)
		if err != nil {
			s.closeListeners()
			cancel()
			return nil, err
		}
		s.lsts = append(s.lsts, l)
		s.logListener(l)
	}
	return s, nil
}

func (s *Server) listen(lc Listener) (*listener, error) {
	raw, err := net.Listen("tcp", lc.Addr)
	if err != nil {
		return nil, fmt.Errorf("relay: listener %q: %w", lc.Name, err)
	}
	if lc.ProxyProtocol {
		raw = proxied.Listen(raw, proxied.Options{Trusted: s.opts.TrustedProxies, Log: s.log.With("listener", lc.Name)})
	}
	l := &listener{cfg: lc}
	l.cfg.TLS = l.liveTLS(tlsFloor(lc.TLS))
	l.ln = &limitListener{Listener: raw, table: s.conns, hostname: s.opts.Hostname, log: s.log}
	if lc.Mode == ModeImplicitTLS {
		l.ln.tls = l.cfg.TLS
	}
	l.smtp = s.smtpServer(l)
	return l, nil
}

// tlsFloor copies c with TLS 1.2 as the least version (RFC 8996 retires
// 1.0 and 1.1; RFC 8314 §4.1).
func tlsFloor(c *tls.Config) *tls.Config {
	if c == nil {
		return nil
	}
	c = c.Clone()
	if c.MinVersion < tls.VersionTLS12 {
		c.MinVersion = tls.VersionTLS12
	}
	return c
}

// smtpServer configures go-smtp. AUTH over clear text is allowed at the
// go-smtp level because the decision is ours (authGate), per peer. Read
// timeouts are the trackedConn's; the recipient limit is ours, so that its
// reply carries the reference.
func (s *Server) smtpServer(l *listener) *smtp.Server {
	srv := smtp.NewServer(&backend{srv: s, lst: l})
	srv.Domain = s.opts.Hostname
	srv.MaxMessageBytes = s.opts.MaxMessageBytes
	srv.MaxLineLength = s.opts.MaxLineLength
	srv.WriteTimeout = s.opts.WriteTimeout
	srv.AllowInsecureAuth = true
	srv.EnableSMTPUTF8 = true
	srv.EnableDSN = true
	srv.ErrorLog = smtpLog{s.log.With("listener", l.cfg.Name)}
	if l.cfg.Mode != ModeImplicitTLS {
		srv.TLSConfig = l.cfg.TLS // offers STARTTLS when set
	}
	return srv
}

func (s *Server) logListener(l *listener) {
	s.log.Info("listening", "listener", l.cfg.Name, "addr", l.ln.Addr().String(), "mode", l.cfg.Mode.String(),
		"insecure_auth", l.cfg.AllowInsecureAuth, "proxy_protocol", l.cfg.ProxyProtocol)
	for _, t := range l.cfg.Trusted {
		s.log.Info("trusted network: mail accepted without AUTH", "listener", l.cfg.Name,
			"net", t.Net.String(), "identity", t.Identity)
	}
}

// trustedIdentity returns the identity of the most specific trusted network
// holding peer.
func (l *listener) trustedIdentity(peer netip.Addr) (string, bool) {
	best := -1
	var id string
	for _, t := range l.cfg.Trusted {
		if t.Net.Contains(peer) && t.Net.Bits() > best {
			best, id = t.Net.Bits(), t.Identity
		}
	}
	return id, best >= 0
}

// Serve accepts connections on every listener and returns when all have
// stopped: nil after Shutdown, else the listeners' errors.
func (s *Server) Serve() error {
	errs := make([]error, len(s.lsts))
	var wg sync.WaitGroup
	for i, l := range s.lsts {
		wg.Go(func() { errs[i] = s.serve(l) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// serve runs one listener; the listener closed by Shutdown is no error.
func (s *Server) serve(l *listener) error {
	err := l.smtp.Serve(l.ln)
	if s.closing.Load() && errors.Is(err, net.ErrClosed) {
		return nil
	}
	return err
}

// Addrs returns the listening addresses, in the order of Options.Listeners.
func (s *Server) Addrs() []net.Addr {
	addrs := make([]net.Addr, len(s.lsts))
	for i, l := range s.lsts {
		addrs[i] = l.ln.Addr()
	}
	return addrs
}

// Shutdown drains the server, as on SIGTERM: it stops accepting, lets every
// transaction under way finish (a client between transactions gets 421 and
// is closed, RFC 5321 §3.8), and when ctx ends first closes what is left
// and returns ctx's error.
func (s *Server) Shutdown(ctx context.Context) error {
	err := ErrServerClosed
	s.shutOnce.Do(func() { err = s.shutdown(ctx) })
	return err
}

// ErrServerClosed is returned by a second Shutdown.
var ErrServerClosed = errors.New("relay: server already shut down")

func (s *Server) shutdown(ctx context.Context) error {
	s.closing.Store(true)
	s.closeListeners()
	s.conns.drain()
	var wg sync.WaitGroup
	for _, l := range s.lsts {
		wg.Go(func() { _ = l.smtp.Shutdown(ctx) })
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		s.cancel()
		s.conns.closeAll()
		s.log.Warn("shutdown: deadline reached, connections closed", "err", err)
		return err
	}
	s.outcomes.wait() // the sessions are done: no write starts any more
	s.cancel()
	s.log.Info("shutdown: drained")
	return nil
}

func (s *Server) closeListeners() {
	for _, l := range s.lsts {
		if err := l.ln.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
			s.log.Warn("closing listener", "listener", l.cfg.Name, "err", err)
		}
	}
}

// smtpLog carries go-smtp's own messages (failed TLS handshakes, broken
// connections, recovered panics) to the operational log.
type smtpLog struct{ log *slog.Logger }

func (l smtpLog) Printf(format string, v ...any) { l.print(fmt.Sprintf(format, v...)) }
func (l smtpLog) Println(v ...any)               { l.print(strings.TrimSuffix(fmt.Sprintln(v...), "\n")) }

func (l smtpLog) print(msg string) {
	if strings.HasPrefix(msg, "panic") {
		l.log.Error("smtp", "msg", msg)
		return
	}
	l.log.Info("smtp", "msg", msg)
}
