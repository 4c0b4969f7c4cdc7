package config

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/dncgate/dncgate/country"
)

// Cap is one [[caps]] table: a frequency cap over a sliding window. The
// string values are those of package caps (Scope, Count), so the caller
// converts them with a plain conversion.
type Cap struct {
	Name      string   `toml:"name"`
	Scope     CapScope `toml:"scope"`
	Limit     int      `toml:"limit"`
	Window    Duration `toml:"window"`
	Count     CapCount `toml:"count"`
	Countries []string `toml:"countries"`
	Mode      CapMode  `toml:"mode"`
	Hold      Duration `toml:"hold"`
}

// CapScope is what a cap counts sends to, or from.
type CapScope string

const (
	CapRecipient       CapScope = "recipient"
	CapRecipientDomain CapScope = "recipient-domain"
	CapRep             CapScope = "rep"
	CapRepDomain       CapScope = "rep-domain"
	CapOrg             CapScope = "org"
)

// CapCount is what one send is.
type CapCount string

const (
	CapMessages   CapCount = "messages"
	CapRecipients CapCount = "recipients"
)

// CapMode is the reply when a cap is reached.
type CapMode string

const (
	CapReject   CapMode = "reject"   // 550 5.7.1: do not retry
	CapTempfail CapMode = "tempfail" // 451 4.7.1: the client retries later
)

// Defaults of the keys a [[caps]] table may leave out. [[caps]] tables
// start from zero values, so Effective fills them in.
const (
	DefaultCapCount = CapMessages
	DefaultCapMode  = CapReject
	DefaultCapHold  = 10 * time.Minute
	// minCapWindow keeps windows in a range where whole seconds mean
	// something; both stores keep times to the millisecond.
	minCapWindow = time.Second
	maxCapName   = 64
)

// Effective returns c with the defaults of the keys it left out.
func (c Cap) Effective() Cap {
	if c.Count == "" {
		c.Count = DefaultCapCount
	}
	if c.Mode == "" {
		c.Mode = DefaultCapMode
	}
	if c.Hold.Duration == 0 {
		c.Hold = Duration{DefaultCapHold}
	}
	return c
}

func (c *Config) checkCaps(col *collector) {
	seen := map[string]string{}
	for i, cp := range c.Caps {
		key := "caps[" + strconv.Itoa(i) + "]"
		checkCap(col, key, cp)
		if prev, ok := seen[cp.Name]; ok && cp.Name != "" {
			col.add(key+".name", "%s is already named %q", prev, cp.Name)
		}
		seen[cp.Name] = key
		c.checkCapHold(col, key, cp)
	}
	if c.CapsOpts.ExemptReplies && len(c.Caps) == 0 {
		col.add("caps_options.exempt_replies", "exempts replies from caps, but no [[caps]] table is configured")
	}
}

func checkCap(col *collector, key string, cp Cap) {
	checkCapName(col, key+".name", cp.Name)
	switch cp.Scope {
	case CapRecipient, CapRecipientDomain, CapRep, CapRepDomain, CapOrg:
	case "":
		col.add(key+".scope", `required: "recipient", "recipient-domain", "rep", "rep-domain" or "org"`)
	default:
		col.add(key+".scope", `unknown scope %q; use "recipient", "recipient-domain", "rep", "rep-domain" or "org"`, cp.Scope)
	}
	if cp.Limit < 1 {
		col.add(key+".limit", "must be at least 1 (sends allowed in one window)")
	}
	switch {
	case cp.Window.Duration == 0:
		col.add(key+".window", `must be more than 0 (the sliding window's length, such as "720h" or "24h")`)
	case cp.Window.Duration < minCapWindow:
		col.add(key+".window", "must be at least %s", minCapWindow)
	}
	switch cp.Count {
	case "", CapMessages, CapRecipients:
	default:
		col.add(key+".count", `unknown count %q; use "messages" or "recipients"`, cp.Count)
	}
	switch cp.Mode {
	case "", CapReject, CapTempfail:
	default:
		col.add(key+".mode", `unknown mode %q; use "reject" (5xx) or "tempfail" (4xx)`, cp.Mode)
	}
	for j, cc := range cp.Countries {
		if _, err := country.Parse(cc); err != nil {
			col.add(fmt.Sprintf("%s.countries[%d]", key, j), "%v", err)
		}
	}
}

// checkCapName keeps names to what can go into an SMTP reply line and a
// metric label as they are.
func checkCapName(col *collector, key, name string) {
	switch {
	case name == "":
		col.add(key, "required: it names the cap in replies and logs")
	case len(name) > maxCapName:
		col.add(key, "longer than %d characters", maxCapName)
	case strings.Trim(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") != "":
		col.add(key, "%q: use letters, digits, '-', '_' and '.' only", name)
	}
}

// checkCapHold: a reservation lives from RCPT to the upstream's reply; a
// hold shorter than the upstream's DATA timeout could run out while a slow
// delivery is still under way, and the cap could then be passed by one.
func (c *Config) checkCapHold(col *collector, key string, cp Cap) {
	hold := cp.Effective().Hold
	data := c.Upstream.DataTimeout
	if hold.Duration > data.Duration {
		return
	}
	what := hold.String()
	if cp.Hold.Duration == 0 {
		what += " (the default)"
	}
	col.add(key+".hold", "%s must be longer than upstream.data_timeout (%s): a reservation must outlive the delivery it guards", what, data)
}

// CountryCodes returns the cap's countries as package country reads them
// ("uk" is GB); Validate has refused any other value.
func (c Cap) CountryCodes() []country.Code {
	var out []country.Code
	for _, s := range c.Countries {
		if cc, err := country.Parse(s); err == nil {
			out = append(out, cc)
		}
	}
	return out
}
