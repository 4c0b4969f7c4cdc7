// Package relay is the SMTP submission side of the gateway: it authenticates
// sales reps, enforces who may send as whom and the protocol limits, and
// hands each accepted message to a Forwarder.
package relay

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/dncgate/dncgate/auth"
	"github.com/dncgate/dncgate/country"
	"github.com/dncgate/dncgate/lists"
	"github.com/dncgate/dncgate/relay/upstream"
	"github.com/dncgate/dncgate/store"
)

// TLSMode says how a listener uses TLS.
type TLSMode int

const (
	// ModePlain starts in clear text; STARTTLS is offered when the listener
	// has a TLS config, but not required.
	ModePlain TLSMode = iota
	// ModeStartTLS is the submission port (587) style: clients must issue
	// STARTTLS before AUTH or MAIL (RFC 3207 §4, RFC 8314 §3.3).
	ModeStartTLS
	// ModeImplicitTLS is the submissions port (465) style: TLS from the first
	// byte (RFC 8314 §3.3).
	ModeImplicitTLS
)

func (m TLSMode) String() string {
	switch m {
	case ModePlain:
		return "plain"
	case ModeStartTLS:
		return "starttls"
	case ModeImplicitTLS:
		return "tls"
	}
	return fmt.Sprintf("TLSMode(%d)", int(m))
}

// Options configure a Server. Zero values take the defaults noted.
type Options struct {
	Hostname        string         // greeting and EHLO domain; default "localhost"
	Listeners       []Listener     // at least one
	MaxMessageBytes int64          // SIZE advertised and enforced; default 25 MiB
	MaxRecipients   int            // per message; default 100 (RFC 5321 §4.5.3.1.8)
	MaxLineLength   int            // bytes per line, commands and data; default 2000
	ReadTimeout     time.Duration  // idle time allowed between bytes once authenticated; default 5 min (RFC 5321 §4.5.3.2.7)
	PreAuthTimeout  time.Duration  // idle time allowed before AUTH (or a trusted network's MAIL); default 1 min, at most ReadTimeout
	WriteTimeout    time.Duration  // per reply; default 1 min
	SessionTimeout  time.Duration  // whole connection lifetime cap; default 30 min
	MaxConns        int            // simultaneous connections in all, over every listener; default 1000; more get 421
	MaxConnsPerIP   int            // simultaneous connections per IPv4 address or IPv6 /64; default 50, negative for none
	MaxErrors       int            // error replies a connection may get before a 421 closes it; default 20, negative for no limit
	ForwardTimeout  time.Duration  // deadline given to the Forwarder; default 5 min
	Caps            Capper         // frequency caps checked at RCPT; nil checks none
	Replies         Replies        // sent Message-IDs, and the exemption of replies from Caps
	Writes          WriteHolder    // sends the writes after a delivery together; nil writes each at once
	Stamper         Stamper        // each recipient's footer and unsubscribe headers; nil sends the message as written
	Check           RecipientCheck // opt-outs, lists and country policy at RCPT; nil checks nothing
	ReturnPaths     ReturnPaths    // each copy's own envelope sender, for its bounces; nil sends the rep's
	ReceivedClient  bool           // the Received field names the client's HELO and address
	TrustedProxies  []netip.Prefix // the load balancers a ProxyProtocol listener takes headers from
	// Recipients is what may be a recipient at all: an address a mail
	// server could reroute is refused at RCPT (553 5.1.3) whatever Check
	// says, except at its reroute-ok domains; nil names none.
	Recipients *lists.Recipients
	// Ledger records every recipient decision before the reply or the
	// copy that depends on it, and each send's outcome; a decision it
	// cannot record is answered 451 4.3.0, nothing sent. nil records
	// nothing.
	Ledger Recorder
	// LedgerKey is the digest key the ledger keys recipients by (the
	// store's, as the opt-out list): needed with Ledger.
	LedgerKey []byte
	// LedgerSubject keeps each sent message's Subject in its records
	// (decoded, one line, at most 200 characters).
	LedgerSubject bool
	Metrics       *Metrics         // nil counts nothing
	Now           func() time.Time // default time.Now; socket deadlines stay wall-clock
}

// Listener is one listening socket and its policy.
type Listener struct {
	Name              string
	Addr              string // "127.0.0.1:2525"; port 0 picks a free port
	Mode              TLSMode
	TLS               *tls.Config // required for ModeStartTLS and ModeImplicitTLS; TLS 1.2 is the floor
	AllowInsecureAuth bool        // AUTH without TLS; loopback peers always may; not allowed with ModeStartTLS
	Trusted           []TrustedNet
	OnRefusal         RefusalMode // recipients the check or a cap refuses; default Reject
	// ProxyProtocol reads a PROXY header (v1 or v2) from each connection,
	// sent by one of Options.TrustedProxies; the client it names is the
	// client for AUTH, limits, trusted networks and logs. Connections
	// without one, or from anyone else, are closed.
	ProxyProtocol bool
}

// WriteHolder holds back the store writes made under a context until they
// are flushed (store.Store's HoldWrites): the delivered marks, the sent
// Message-ID and the caps' commit of a message then share one round trip.
type WriteHolder interface {
	HoldWrites(ctx context.Context) (context.Context, func(ctx context.Context) error)
}

// TrustedNet lets clients from Net send without AUTH, as the user Identity
// (an existing user's email); that user's sender rules apply.
type TrustedNet struct {
	Net      netip.Prefix
	Identity string
}

// Users finds accounts by their (lower-cased) email; store.ErrNotFound when
// absent.
type Users interface {
	User(ctx context.Context, email string) (store.User, error)
}

// Authenticator checks logins (package auth): SMTP AUTH shares its
// lock-out with every other door of the gateway.
type Authenticator interface {
	Login(ctx context.Context, a auth.Attempt) auth.Result
}

// Stamper prepares each recipient's copy of a message: privacy notice,
// opt-out footer, List-Unsubscribe headers.
type Stamper interface {
	// Prepare reads one message, sent by rep (the AUTH identity), once for
	// all its recipients. An *smtpreply.Error refuses the whole message with
	// its code (signed mail the gateway may not alter, say); any other
	// error is a temporary failure.
	Prepare(body []byte, rep string) (Stamped, error)
}

// Stamped is one prepared message.
type Stamped interface {
	// For returns rcpt's copy. cc is the recipient's country as the
	// recipient check found it, None when unknown, and language the one
	// the CRM contact reads, "" when unknown; the footer's language
	// follows the language, else the country, and the unsubscribe link
	// carries it.
	For(rcpt string, cc country.Code, language string) ([]byte, error)
	// MessageID is the Message-ID every copy got because the message had
	// none, "" when it had one: replies will name it.
	MessageID() string
}

// ReturnPaths give each copy its own envelope sender, so that what comes
// back about it reaches the gateway and names the copy (package bounce).
type ReturnPaths interface {
	// For returns the return path of rep's copy to rcpt in the
	// transaction ref, or "" to keep the rep's own sender.
	For(rep, rcpt, ref string, now time.Time) string
}

// Forwarder hands an accepted message to the upstream.
type Forwarder interface {
	// Forward delivers body to every recipient, one upstream transaction per
	// recipient, and reports each recipient's outcome (same order as env.Rcpts).
	Forward(ctx context.Context, env upstream.Envelope, body []byte) []upstream.Result
}

const (
	defaultHostname        = "localhost"
	defaultMaxMessageBytes = 25 << 20
	defaultMaxRecipients   = 100
	defaultMaxLineLength   = 2000 // RFC 5321 §4.5.3.1.6 says 1000; doubled for lenient clients
	defaultReadTimeout     = 5 * time.Minute
	defaultWriteTimeout    = time.Minute
	defaultSessionTimeout  = 30 * time.Minute
	defaultPreAuthTimeout  = time.Minute
	defaultMaxConns        = 1000
	defaultMaxConnsPerIP   = 50
	defaultMaxErrors       = 20              // Postfix's smtpd_hard_error_limit
	defaultForwardTimeout  = 5 * time.Minute // below the client's 10 min DATA wait (RFC 5321 §4.5.3.2.6)
)

func (o Options) withDefaults() Options {
	setDefault(&o.Hostname, defaultHostname)
	setDefault(&o.MaxMessageBytes, defaultMaxMessageBytes)
	setDefault(&o.MaxRecipients, defaultMaxRecipients)
	setDefault(&o.MaxLineLength, defaultMaxLineLength)
	setDefault(&o.ReadTimeout, defaultReadTimeout)
	setDefault(&o.WriteTimeout, defaultWriteTimeout)
	setDefault(&o.SessionTimeout, defaultSessionTimeout)
	setDefault(&o.PreAuthTimeout, min(defaultPreAuthTimeout, o.ReadTimeout))
	setDefault(&o.MaxConns, defaultMaxConns)
	setDefault(&o.MaxConnsPerIP, defaultMaxConnsPerIP)
	setDefault(&o.MaxErrors, defaultMaxErrors)
	setDefault(&o.ForwardTimeout, defaultForwardTimeout)
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

func setDefault[T comparable](v *T, def T) {
	var zero T
	if *v == zero {
		*v = def
	}
}

// validate reports every problem at once, so a bad configuration is fixed in
// one pass.
func (o Options) validate() error {
	var errs []error
	if len(o.Listeners) == 0 {
		errs = append(errs, errors.New("relay: no listener"))
	}
	if o.MaxMessageBytes < 0 || o.MaxRecipients < 0 || o.MaxLineLength < 0 || o.MaxConns < 0 {
		errs = append(errs, errors.New("relay: limits must not be negative"))
	}
	if o.Ledger != nil && len(o.LedgerKey) == 0 {
		errs = append(errs, errors.New("relay: a Ledger needs the LedgerKey"))
	}
	if o.PreAuthTimeout > o.ReadTimeout {
		errs = append(errs, fmt.Errorf("relay: PreAuthTimeout %v is longer than ReadTimeout %v", o.PreAuthTimeout, o.ReadTimeout))
	}
	if err := o.Replies.validate(); err != nil {
		errs = append(errs, err)
	}
	for i, l := range o.Listeners {
		errs = append(errs, l.validate(i)...)
		if l.ProxyProtocol && len(o.TrustedProxies) == 0 {
			errs = append(errs, fmt.Errorf("relay: listener %d (%q): ProxyProtocol needs TrustedProxies", i, l.Name))
		}
	}
	return errors.Join(errs...)
}

func (l Listener) validate(i int) []error {
	var errs []error
	bad := func(format string, a ...any) {
		errs = append(errs, fmt.Errorf("relay: listener %d (%q): "+format, append([]any{i, l.Name}, a...)...))
	}
	if l.Addr == "" {
		bad("no address")
	}
	if l.Mode != ModePlain && l.Mode != ModeStartTLS && l.Mode != ModeImplicitTLS {
		bad("unknown mode %v", l.Mode)
	}
	if l.Mode != ModePlain && l.TLS == nil {
		bad("mode %v needs a TLS config", l.Mode)
	}
	if l.Mode == ModeStartTLS && l.AllowInsecureAuth {
		bad("AllowInsecureAuth contradicts mode starttls, which requires TLS")
	}
	for _, t := range l.Trusted {
		if !t.Net.IsValid() || t.Identity == "" {
			bad("trusted network %v needs a valid prefix and an identity", t.Net)
		}
	}
	return errs
}
