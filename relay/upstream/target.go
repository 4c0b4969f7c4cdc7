package upstream

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"time"

	"github.com/emersion/go-smtp"
)

// Target sends one message to one recipient (one upstream transaction).
// Send returns nil or an *Error; it is safe for concurrent use.
type Target interface {
	Send(ctx context.Context, from string, mopts *smtp.MailOptions, rcpt Rcpt, body []byte) error
	Close() error
}

// TargetOptions tune the SMTP target; zero fields take the defaults below.
// The outbox target uses only Now.
type TargetOptions struct {
	// LocalName is the name given in EHLO. Default "localhost".
	LocalName string
	// CAFile is a PEM file of the certificate authorities trusted for the
	// upstream's certificate, instead of the system's. Empty: system roots.
	CAFile string
	// InsecureSkipVerify accepts any upstream certificate. Tests and
	// troubleshooting only: it lets anyone on the path read the mail.
	InsecureSkipVerify bool
	// DialTimeout bounds connection setup as a whole: TCP connect, TLS,
	// greeting, EHLO, STARTTLS and AUTH. Default 30s.
	DialTimeout time.Duration
	// CommandTimeout bounds each MAIL, RCPT, DATA and RSET reply. Default 5m
	// (RFC 5321 §4.5.3.2).
	CommandTimeout time.Duration
	// DataTimeout bounds sending the body and waiting for the reply to the
	// final dot. Default 10m (RFC 5321 §4.5.3.2.6).
	DataTimeout time.Duration
	// MaxIdle is how many idle connections are kept for reuse. Default 4;
	// negative: none.
	MaxIdle int
	// IdleTimeout is how long an idle connection is kept. Default 30s, well
	// under the 5 minutes servers wait for a command (RFC 5321 §4.5.3.2.7).
	IdleTimeout time.Duration
	// Now is the clock; default time.Now.
	Now func() time.Time
}

func (o TargetOptions) withDefaults() TargetOptions {
	if o.LocalName == "" {
		o.LocalName = "localhost"
	}
	o.DialTimeout = orDefault(o.DialTimeout, 30*time.Second)
	o.CommandTimeout = orDefault(o.CommandTimeout, 5*time.Minute)
	o.DataTimeout = orDefault(o.DataTimeout, 10*time.Minute)
	o.IdleTimeout = orDefault(o.IdleTimeout, 30*time.Second)
	switch {
	case o.MaxIdle == 0:
		o.MaxIdle = 4
	case o.MaxIdle < 0:
		o.MaxIdle = 0
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// NewTarget returns the target spec names: an SMTP connection pool, or an
// outbox folder (created if needed).
func NewTarget(spec Spec, o TargetOptions) (Target, error) {
	o = o.withDefaults()
	if spec.Scheme == SchemeOutbox {
		return newOutbox(spec.Dir, o.Now)
	}
	switch spec.Scheme {
	case SchemeSMTP, SchemeStartTLS, SchemeSMTPS:
	default:
		return nil, fmt.Errorf("upstream: unknown scheme %q", string(spec.Scheme))
	}
	cfg, err := tlsConfig(spec.Host, o)
	if err != nil {
		return nil, err
	}
	return &smtpTarget{spec: spec, o: o, tls: cfg, pool: newPool(o.MaxIdle, o.IdleTimeout), dialTCP: dialTCP}, nil
}

// tlsConfig verifies the upstream's certificate against host by default,
// and refuses TLS below 1.2 (RFC 8996, RFC 9325 §3.1.1).
func tlsConfig(host string, o TargetOptions) (*tls.Config, error) {
	cfg := &tls.Config{
		ServerName:         host,
		MinVersion:         tls.VersionTLS12,
		InsecureSkipVerify: o.InsecureSkipVerify,
	}
	if o.CAFile == "" {
		return cfg, nil
	}
	pem, err := os.ReadFile(o.CAFile)
	if err != nil {
		return nil, fmt.Errorf("upstream CA file: %w", err)
	}
	cfg.RootCAs = x509.NewCertPool()
	if !cfg.RootCAs.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("upstream CA file %s: no PEM certificate in it", o.CAFile)
	}
	return cfg, nil
}
