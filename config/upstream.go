package config

import (
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
)

// Upstream URL schemes.
const (
	outboxScheme = "outbox:"
	// SchemeSMTP is plain SMTP without TLS, port 25 by default: for a relay
	// on this machine or a trusted network.
	SchemeSMTP = "smtp"
	// SchemeSMTPStartTLS requires STARTTLS, port 587 by default (RFC 6409).
	SchemeSMTPStartTLS = "smtp+starttls"
	// SchemeSMTPS is implicit TLS, port 465 by default (RFC 8314 §3.3).
	SchemeSMTPS = "smtps"
	// SchemeOutbox writes each message as a file into a folder.
	SchemeOutbox = "outbox"
)

var defaultPorts = map[string]string{SchemeSMTP: "25", SchemeSMTPStartTLS: "587", SchemeSMTPS: "465"}

func (c *Config) checkUpstream(col *collector) {
	u := c.Upstream
	if u.URL != "" {
		if err := checkUpstreamURL(u.URL); err != nil {
			col.add("upstream.url", "%v", err)
		}
	}
	if u.CAFile != "" {
		checkFile(col, "upstream.ca_file", u.CAFile, "")
	}
	positive(col, "upstream.connect_timeout", u.ConnectTimeout)
	positive(col, "upstream.command_timeout", u.CommandTimeout)
	positive(col, "upstream.data_timeout", u.DataTimeout)
	positive(col, "upstream.idle_timeout", u.IdleTimeout)
	if u.MaxIdleConns < 0 {
		col.add("upstream.max_idle_conns", "must not be negative (0 keeps no idle connection)")
	}
	if u.Parallel < 1 {
		col.add("upstream.parallel", "must be at least 1")
	}
}

// checkUpstreamURL accepts smtp://, smtp+starttls://, smtps:// (with an
// optional user:password@ and port) and outbox:DIR, with the rules the
// upstream package applies when it dials. Messages never repeat the URL,
// which may hold a password.
func checkUpstreamURL(raw string) error {
	if dir, ok := cutPrefixFold(raw, outboxScheme); ok {
		return checkOutboxDir(dir)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("not a URL")
	}
	if _, ok := defaultPorts[strings.ToLower(u.Scheme)]; !ok {
		return fmt.Errorf("unknown scheme %q; use smtp://, smtp+starttls://, smtps:// or outbox:DIR", u.Scheme)
	}
	if err := checkSMTPURL(u); err != nil {
		return err
	}
	return checkCredentials(u)
}

func checkOutboxDir(dir string) error {
	if dir == "" {
		return fmt.Errorf("outbox: needs a folder, as in outbox:/var/spool/dncgate")
	}
	if strings.HasPrefix(dir, "//") {
		return fmt.Errorf("write outbox:DIR, as in outbox:/var/spool/dncgate, without //")
	}
	return nil
}

func checkSMTPURL(u *url.URL) error {
	if u.Opaque != "" || u.Hostname() == "" {
		return fmt.Errorf("%s:// needs a host, as in %s://mail.example.com", u.Scheme, u.Scheme)
	}
	if p := u.Port(); p != "" {
		if n, err := parsePort(p); err != nil || n == 0 {
			return fmt.Errorf("port %q out of range 1-65535", p)
		}
	}
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("an SMTP upstream takes no path, query or fragment")
	}
	return nil
}

// checkCredentials refuses a user without password, and a password sent
// in the clear (PLAIN and LOGIN carry it as is, RFC 4616 §6) to anything
// but this machine.
func checkCredentials(u *url.URL) error {
	if u.User == nil {
		return nil
	}
	pass, _ := u.User.Password()
	switch {
	case u.User.Username() == "":
		return fmt.Errorf("user:password@ has an empty user")
	case pass == "":
		return fmt.Errorf("a user without a password; write user:password@host")
	case strings.EqualFold(u.Scheme, SchemeSMTP) && !isLoopback(u.Hostname()):
		return fmt.Errorf("the password would cross the network unencrypted; use smtp+starttls:// or smtps://")
	}
	return nil
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// cutPrefixFold is strings.CutPrefix ignoring ASCII case: URL schemes are
// case-insensitive (RFC 3986 §3.1).
func cutPrefixFold(s, prefix string) (string, bool) {
	if len(s) < len(prefix) || !strings.EqualFold(s[:len(prefix)], prefix) {
		return s, false
	}
	return s[len(prefix):], true
}

// UpstreamAddr returns host:port of an SMTP upstream URL, filling in the
// scheme's default port.
func UpstreamAddr(u *url.URL) string {
	if u.Port() != "" {
		return u.Host
	}
	return net.JoinHostPort(u.Hostname(), defaultPorts[strings.ToLower(u.Scheme)])
}

func parsePort(p string) (int, error) {
	n, err := strconv.Atoi(p)
	if err != nil || n < 0 || n > 65535 {
		return 0, fmt.Errorf("bad port %q", p)
	}
	return n, nil
}
