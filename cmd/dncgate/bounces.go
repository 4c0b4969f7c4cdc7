package main

import (
	"context"
	"encoding/hex"
	"errors"
	"log/slog"

	"github.com/emersion/go-smtp"

	"github.com/dncgate/dncgate/bounce"
	"github.com/dncgate/dncgate/config"
	"github.com/dncgate/dncgate/ledger"
	"github.com/dncgate/dncgate/relay/upstream"
	"github.com/dncgate/dncgate/suppression"
	"github.com/dncgate/dncgate/webhook"
)

// complaintNotice queues the CRM's opt-out event for a recipient a
// complaint opted out: the digest always, the address when the report
// named the copy's own recipient (and the endpoint wants addresses).
func complaintNotice(notify *webhook.Notifier) func(context.Context, bounce.OptOutNotice) error {
	if notify == nil {
		return nil
	}
	return func(ctx context.Context, n bounce.OptOutNotice) error {
		return notify.Notify(ctx, webhook.Event{Type: webhook.OptOut, At: n.At, Address: n.Address,
			Digest: hex.EncodeToString(n.Digest[:]), Source: string(ledger.SourceComplaint), Actor: "recipient"})
	}
}

// bounceSide is what [bounces] turns on: each copy's return path and,
// when bounces.listen is set, the listener of the bounce domain.
type bounceSide struct {
	paths    *bounce.ReturnPaths // nil when off
	listener *bounce.Listener
}

// startBounces makes sure the bounced list exists and starts the bounce
// listener; its errors go to errc. Off, it returns an empty side. A
// return path names a copy the send ledger records, so bounces need the
// ledger.
func startBounces(ctx context.Context, cfg *config.Config, st backend, key []byte, led ledger.Ledger, notify *webhook.Notifier, target upstream.Target, m *bounce.Metrics, log *slog.Logger, errc chan<- error) (*bounceSide, error) {
	side := &bounceSide{}
	if !cfg.BouncesOn() {
		return side, nil
	}
	if led == nil {
		return nil, errors.New("[bounces] needs the send ledger: a return path names a copy by its record there ([ledger] enabled = false)")
	}
	if err := suppression.EnsureBounced(ctx, st); err != nil {
		return nil, err
	}
	keys, _, err := unsubscribeKeys(ctx, cfg, st, true)
	if err != nil {
		return nil, err
	}
	b := cfg.Bounces
	side.paths = &bounce.ReturnPaths{Keyring: keys.Ring, Domain: b.Domain, Key: key}
	if b.Listen == "" {
		return side, nil
	}
	l, err := bounce.NewListener(bounce.ListenerOptions{
		Addr: b.Listen, Domain: b.Domain, Hostname: cfg.Server.Hostname, Keyring: keys.Ring, Copies: led,
		Applier: &bounce.Applier{Lists: st, Counts: st, Ledger: led, SoftLimit: b.SoftLimit, SoftWindow: b.SoftWindow.Duration, Log: log,
			OptedOut: complaintNotice(notify), Digest: func(addr string) ledger.Digest { return ledger.RcptDigest(key, addr) }},
		Forward:  repForwarder{target},
		MaxBytes: int64(b.MaxSize),
		Log:      log,
		Observe:  m.Observe,
	})
	if err != nil {
		return nil, err
	}
	go func() {
		if err := l.Serve(); err != nil {
			errc <- err
		}
	}()
	log.Info("bounce listener listening", "addr", l.Addr().String(), "domain", b.Domain)
	side.listener = l
	return side, nil
}

// stop ends the bounce listener, waiting for its sessions until ctx ends.
func (s *bounceSide) stop(ctx context.Context) {
	if s.listener != nil {
		s.listener.Shutdown(ctx)
	}
}

// repForwarder passes a bounce on to the rep through the upstream, from
// the null path (RFC 5321 §4.5.5) so that it can never bounce again.
type repForwarder struct{ t upstream.Target }

func (f repForwarder) ForwardBounce(ctx context.Context, rep string, msg []byte) error {
	return f.t.Send(ctx, "", &smtp.MailOptions{}, upstream.Rcpt{Addr: rep}, msg)
}
