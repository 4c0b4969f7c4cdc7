package config

import (
	"net"
	"strconv"
)

// Autoconfig is [autoconfig]: the files mail clients read to set
// themselves up (Thunderbird autoconfig, Outlook Autodiscover, an Apple
// profile), served on the web listener.
type Autoconfig struct {
	Enabled bool `toml:"enabled"`
	// Listener names the [[listener]] reps submit to; empty: the first
	// with TLS.
	Listener string `toml:"listener"`
	// Hostname and Port are what clients connect to, when a balancer or
	// a port mapping stands between; default server.hostname and the
	// listener's port.
	Hostname string `toml:"hostname"`
	Port     int    `toml:"port"`
	// IMAPHost, IMAPPort and IMAPTLS name the company's mailbox server,
	// so a client makes the whole account; Apple profiles need it.
	IMAPHost    string  `toml:"imap_host"`
	IMAPPort    int     `toml:"imap_port"`
	IMAPTLS     TLSMode `toml:"imap_tls"`
	DisplayName string  `toml:"display_name"` // default: footer.company
	Domain      string  `toml:"domain"`       // default: server.hostname's parent
}

// AutoconfigServer is the submission listener the files name: host,
// port and TLS mode, with ok false when none fits (Validate refuses that
// while autoconfig is enabled).
func (c *Config) AutoconfigServer() (host string, port int, tls TLSMode, ok bool) {
	a := c.Autoconfig
	for _, l := range c.Listeners {
		if (a.Listener == "" && l.TLS != TLSNone) || (a.Listener != "" && l.Name == a.Listener) {
			host, ps, err := net.SplitHostPort(l.Address)
			if err != nil {
				return "", 0, "", false
			}
			port, _ = strconv.Atoi(ps)
			if a.Port != 0 {
				port = a.Port
			}
			host = c.Server.Hostname
			if a.Hostname != "" {
				host = a.Hostname
			}
			return host, port, l.TLS, l.TLS != TLSNone
		}
	}
	return "", 0, "", false
}

func (c *Config) checkAutoconfig(col *collector) {
	a := c.Autoconfig
	if !a.Enabled {
		return
	}
	if _, _, _, ok := c.AutoconfigServer(); !ok {
		if a.Listener == "" {
			col.add("autoconfig.enabled", "no [[listener]] has TLS: clients set up by these files would send passwords in the clear; give a listener tls = \"starttls\" or \"implicit\"")
		} else {
			col.add("autoconfig.listener", "%q is not a [[listener]] with TLS", a.Listener)
		}
	}
	if a.Port < 0 || a.Port > 65535 {
		col.add("autoconfig.port", "%d is not a port", a.Port)
	}
	if a.IMAPHost != "" {
		if a.IMAPPort < 0 || a.IMAPPort > 65535 {
			col.add("autoconfig.imap_port", "%d is not a port", a.IMAPPort)
		}
		if a.IMAPTLS != "" && a.IMAPTLS != TLSStartTLS && a.IMAPTLS != TLSImplicit {
			col.add("autoconfig.imap_tls", "%q: use \"implicit\" (port 993) or \"starttls\" (143)", a.IMAPTLS)
		}
	}
}

// IMAP returns the mailbox server the files name, defaults filled in;
// ok false when none is configured.
func (a Autoconfig) IMAP() (host string, port int, tls TLSMode, ok bool) {
	if a.IMAPHost == "" {
		return "", 0, "", false
	}
	tls, port = a.IMAPTLS, a.IMAPPort
	if tls == "" {
		tls = TLSImplicit
	}
	if port == 0 {
		port = map[TLSMode]int{TLSImplicit: 993, TLSStartTLS: 143}[tls]
	}
	return a.IMAPHost, port, tls, true
}
