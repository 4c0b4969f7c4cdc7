package webhook

import (
	"slices"
	"time"
)

// Endpoint is one configured receiver ([[webhooks]]).
type Endpoint struct {
	Name           string
	URL            string
	Secret         []byte
	Events         []Type
	Timeout        time.Duration // one attempt; default DefaultTimeout
	MaxAge         time.Duration // retried until a job is this old; default DefaultMaxAge
	IncludeAddress bool
}

const (
	DefaultTimeout = 10 * time.Second
	DefaultMaxAge  = 72 * time.Hour
)

// Wants reports whether e subscribes to t.
func (e Endpoint) Wants(t Type) bool { return slices.Contains(e.Events, t) }

func (e Endpoint) timeout() time.Duration {
	if e.Timeout > 0 {
		return e.Timeout
	}
	return DefaultTimeout
}

func (e Endpoint) maxAge() time.Duration {
	if e.MaxAge > 0 {
		return e.MaxAge
	}
	return DefaultMaxAge
}
