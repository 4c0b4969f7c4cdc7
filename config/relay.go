package config

import "fmt"

// Relay holds rules of what the gateway accepts as a recipient, at RCPT
// and in every check.
type Relay struct {
	// RerouteOKDomains are the recipient domains whose own mail servers
	// give '%' and '!' in a local part no routing meaning. Elsewhere an
	// address holding them is refused (553 5.1.3): a mail server on the way
	// may deliver user%host@relay to user@host, past the check.
	RerouteOKDomains []string `toml:"reroute_ok_domains"`
}

func (c *Config) checkRelay(col *collector) {
	for i, d := range c.Relay.RerouteOKDomains {
		if err := CheckMailDomain(d); err != nil {
			col.add(fmt.Sprintf("relay.reroute_ok_domains[%d]", i), "%v", err)
		}
	}
}
