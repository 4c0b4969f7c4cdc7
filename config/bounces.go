package config

import "time"

// Bounces gives each copy a return path bounces+TOKEN@Domain and reads
// what comes back to it; off when Domain is empty.
type Bounces struct {
	Domain string `toml:"domain"`
	// Listen is host:port of the SMTP listener the domain's MX points to;
	// empty: no listener (another instance runs it).
	Listen string `toml:"listen"`
	// SoftLimit temporary failures within SoftWindow put the recipient on
	// the bounced list.
	SoftLimit  int      `toml:"soft_limit"`
	SoftWindow Duration `toml:"soft_window"`
	MaxSize    Size     `toml:"max_size"` // of one bounce, which carries the original
}

// The defaults of [bounces]. An MTA retries a temporary failure for days
// (Postfix 5, Exim 4) before it returns a failed 4.x.x report, so each
// soft bounce already stands for days of failure: three within 30 days is
// a mailbox failing for weeks, while one full mailbox, emptied, is
// forgiven. A bounce is as big as the copy it returns.
const (
	DefaultBounceSoftLimit  = 3
	DefaultBounceSoftWindow = 30 * 24 * time.Hour
	DefaultBounceMaxSize    = 25 * MB
)

func defaultBounces() Bounces {
	return Bounces{SoftLimit: DefaultBounceSoftLimit, SoftWindow: Duration{DefaultBounceSoftWindow}, MaxSize: DefaultBounceMaxSize}
}

// BouncesOn reports whether copies get their own return path.
func (c *Config) BouncesOn() bool { return c.Bounces.Domain != "" }

func (c *Config) checkBounces(col *collector) {
	b := c.Bounces
	if b.Domain == "" {
		if b.Listen != "" {
			col.add("bounces.listen", "needs bounces.domain: the listener takes only bounces+TOKEN@ that domain")
		}
		return
	}
	if !validHostname(b.Domain) || !containsDot(b.Domain) {
		col.add("bounces.domain", "%q is not a domain name (letters, digits, '-', '.')", b.Domain)
	}
	if b.Listen != "" {
		checkHostPort(col, "bounces.listen", b.Listen, 0)
	}
	if b.SoftLimit < 1 {
		col.add("bounces.soft_limit", "must be 1 or more (default %d)", DefaultBounceSoftLimit)
	}
	if b.SoftWindow.Duration <= 0 {
		col.add("bounces.soft_window", "must be more than 0 (default %s)", DefaultBounceSoftWindow)
	}
	if b.MaxSize <= 0 {
		col.add("bounces.max_size", "must be more than 0")
	}
}

func containsDot(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == '.' {
			return true
		}
	}
	return false
}
