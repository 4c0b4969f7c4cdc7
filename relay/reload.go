package relay

import (
	"crypto/tls"
	"errors"
	"fmt"
)

// Reload puts o into force for the sessions that begin from now on:
// the recipient check, the caps and the replies' exemption, the stamper,
// the recipient rule, the per-session limits (MaxRecipients, ReadTimeout,
// PreAuthTimeout, SessionTimeout, ForwardTimeout) and each listener's TLS
// configuration, whose certificates the next handshake serves. Sessions
// under way keep the options they began with to their end.
//
// What the open sockets and go-smtp were built with stays as the server
// started, whatever o says: the listeners (their number, addresses, modes
// and policy), Hostname, ReceivedClient, MaxMessageBytes, MaxLineLength,
// WriteTimeout, MaxConns, MaxConnsPerIP, MaxErrors, TrustedProxies,
// Metrics and Now. The caller names those changes as needing a
// restart. o is checked as New checks it; on an error nothing changes.
func (s *Server) Reload(o Options) error {
	o = o.withDefaults()
	if err := o.validate(); err != nil {
		return err
	}
	if len(o.Listeners) != len(s.lsts) {
		return fmt.Errorf("relay: reload: %d listener(s), %d running", len(o.Listeners), len(s.lsts))
	}
	var errs []error
	for i, l := range s.lsts {
		if (o.Listeners[i].TLS == nil) != (l.tls.Load() == nil) {
			errs = append(errs, fmt.Errorf("relay: reload: listener %d (%q): TLS cannot be turned on or off while running", i, l.cfg.Name))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	next := *s.live.Load()
	next.Caps, next.Replies, next.Stamper, next.Check, next.Recipients = o.Caps, o.Replies, o.Stamper, o.Check, o.Recipients
	next.MaxRecipients, next.ForwardTimeout = o.MaxRecipients, o.ForwardTimeout
	next.ReadTimeout, next.PreAuthTimeout, next.SessionTimeout = o.ReadTimeout, o.PreAuthTimeout, o.SessionTimeout
	for i, l := range s.lsts {
		if c := o.Listeners[i].TLS; c != nil {
			l.tls.Store(tlsFloor(c))
		}
	}
	s.conns.setLimits(next)
	s.live.Store(&next)
	return nil
}

// liveTLS stores c as the listener's TLS configuration and returns the
// one to give the socket: it asks, at each handshake, for the one stored
// then. nil (no TLS) stays nil.
func (l *listener) liveTLS(c *tls.Config) *tls.Config {
	if c == nil {
		return nil
	}
	l.tls.Store(c)
	return &tls.Config{
		MinVersion: c.MinVersion,
		GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) {
			return l.tls.Load(), nil
		},
	}
}
