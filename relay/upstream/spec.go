package upstream

import "github.com/dncgate/dncgate/smtpurl"

// Spec is a parsed upstream URL (see package smtpurl).
type Spec = smtpurl.Spec

// Scheme says how the gateway talks to the upstream.
type Scheme = smtpurl.Scheme

const (
	SchemeSMTP     = smtpurl.SchemeSMTP
	SchemeStartTLS = smtpurl.SchemeStartTLS
	SchemeSMTPS    = smtpurl.SchemeSMTPS
	SchemeOutbox   = smtpurl.SchemeOutbox
)

// ParseURL parses an upstream URL; see smtpurl.Parse.
func ParseURL(raw string) (Spec, error) { return smtpurl.Parse(raw) }
