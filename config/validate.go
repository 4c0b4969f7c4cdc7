package config

import (
	"crypto/tls"
	"fmt"
	"net"
	"net/mail"
	"net/netip"
	"os"
	"strconv"
	"strings"
)

// Validate checks every setting and returns all problems at once, as
// Problems, or nil.
func (c *Config) Validate() error { return c.validate(nil) }

func (c *Config) validate(checks []Check) error {
	col := &collector{src: c.src}
	c.checkServer(col)
	c.checkListeners(col)
	c.checkUpstream(col)
	c.checkStore(col)
	c.checkLimits(col)
	c.checkAuth(col)
	c.checkPrivacy(col)
	c.checkLog(col)
	c.checkCaps(col)
	c.checkFooter(col)
	c.checkDKIM(col)
	c.checkPolicy(col)
	c.checkLists(col)
	c.checkLedger(col)
	c.checkRelay(col)
	c.checkWeb(col)
	c.checkConsole(col)
	c.checkAutoconfig(col)
	c.checkWebhooks(col)
	c.checkProxies(col)
	c.checkBounces(col)
	for _, check := range checks {
		check(c, func(key string, err error) { col.add(key, "%v", err) })
	}
	return col.err()
}

// MarkOverridden records that keys (such as "listener" or "upstream.url")
// were set on the command line, so problems with them do not point at the
// file's lines for the values they replaced.
func (c *Config) MarkOverridden(keys ...string) {
	if c.src == nil {
		c.src = &source{}
	}
	c.src.flagKeys = append(c.src.flagKeys, keys...)
}

func (c *Config) checkServer(col *collector) {
	if !validHostname(c.Server.Hostname) {
		col.add("server.hostname", "%q is not a host name (letters, digits, '-', '.')", c.Server.Hostname)
	}
	if c.Server.DataDir == "" {
		col.add("server.data_dir", "must not be empty")
	}
}

// validHostname accepts what may follow EHLO as a Domain (RFC 5321 §4.1.2),
// plus '_' which some machines' host names carry.
func validHostname(h string) bool {
	if h == "" || len(h) > 253 {
		return false
	}
	for _, label := range strings.Split(h, ".") {
		if label == "" || len(label) > 63 || strings.Trim(label, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") != "" {
			return false
		}
	}
	return true
}

func (c *Config) checkListeners(col *collector) {
	if len(c.Listeners) == 0 {
		col.add("listener", "no listener: the gateway would accept no mail")
	}
	seenAddr, seenName := map[string]string{}, map[string]string{}
	for i, l := range c.Listeners {
		key := "listener[" + strconv.Itoa(i) + "]"
		checkListener(col, key, l)
		if prev, ok := seenAddr[l.Address]; ok && l.Address != "" {
			col.add(key+".address", "%s already listens on %s", prev, l.Address)
		}
		if prev, ok := seenName[l.Name]; ok && l.Name != "" {
			col.add(key+".name", "%s is already named %q", prev, l.Name)
		}
		seenAddr[l.Address], seenName[l.Name] = key, key
	}
}

func checkListener(col *collector, key string, l Listener) {
	// Port 0 picks a free port, which tests and throwaway runs rely on.
	checkHostPort(col, key+".address", l.Address, 0)
	switch l.TLS {
	case TLSNone:
	case TLSStartTLS, TLSImplicit:
		checkKeyPair(col, key, l)
		// A TLS listener has TLS before AUTH by construction; allowing AUTH
		// in clear there would only open a downgrade path.
		if l.AllowInsecureAuth {
			col.add(key+".allow_insecure_auth", "only for tls = \"none\"; a %s listener authenticates over TLS", l.TLS)
		}
	default:
		col.add(key+".tls", "unknown mode %q; use \"none\", \"starttls\" or \"implicit\"", l.TLS)
	}
	switch l.OnRefusal {
	case "", DropAndNotify, RejectAtRcpt: // "": a listener made in code
	default:
		col.add(key+".on_refusal", "unknown behaviour %q; use \"drop-and-notify\" or \"reject\"", l.OnRefusal)
	}
	for j, t := range l.Trusted {
		checkTrusted(col, fmt.Sprintf("%s.trusted[%d]", key, j), t)
	}
}

// checkKeyPair makes sure a TLS listener can start: both files are given,
// exist and hold a matching certificate and key.
func checkKeyPair(col *collector, key string, l Listener) {
	ok := checkFile(col, key+".cert_file", l.CertFile, "tls = \""+string(l.TLS)+"\"")
	ok = checkFile(col, key+".key_file", l.KeyFile, "tls = \""+string(l.TLS)+"\"") && ok
	if !ok {
		return
	}
	if _, err := tls.LoadX509KeyPair(l.CertFile, l.KeyFile); err != nil {
		col.add(key+".cert_file", "cannot load the certificate and key: %v", err)
	}
}

// checkFile reports a missing or unreadable file; why says what requires it.
func checkFile(col *collector, key, path, why string) bool {
	if path == "" {
		col.add(key, "required with %s", why)
		return false
	}
	if err := readableFile(path); err != nil {
		col.add(key, "%v", err)
		return false
	}
	return true
}

// readableFile checks that path is a regular file this process can open;
// a device or a pipe named by mistake would block whoever reads it.
func readableFile(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("%s is not a regular file", path)
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	return f.Close()
}

func checkTrusted(col *collector, key string, t Trusted) {
	if _, err := TrustedNetwork(t.Network); err != nil {
		col.add(key+".network", "%v", err)
	}
	if t.Identity == "" {
		col.add(key+".identity", "required: the user these clients act as")
	} else if !isBareAddress(t.Identity) {
		col.add(key+".identity", "%q is not an e-mail address", t.Identity)
	}
}

// TrustedNetwork parses a trusted network: a CIDR prefix, or one address
// standing for itself. A prefix with host bits set is refused because it
// usually means a typo in the length or the address.
func TrustedNetwork(s string) (netip.Prefix, error) {
	if a, err := netip.ParseAddr(s); err == nil {
		return netip.PrefixFrom(a, a.BitLen()), nil
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("%q is not a network in CIDR notation (such as 10.20.0.0/24)", s)
	}
	if p.Masked() != p {
		return netip.Prefix{}, fmt.Errorf("%q has host bits set; did you mean %s?", s, p.Masked())
	}
	return p, nil
}

func isBareAddress(s string) bool {
	a, err := mail.ParseAddress(s)
	return err == nil && a.Name == "" && a.Address == s
}

// checkHostPort wants host:port with a numeric port in [minPort, 65535].
func checkHostPort(col *collector, key, addr string, minPort int) {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		col.add(key, "%q is not host:port", addr)
		return
	}
	n, err := strconv.Atoi(port)
	switch {
	case err != nil:
		col.add(key, "port %q is not a number", port)
	case n < minPort || n > 65535:
		col.add(key, "port %d out of range %d-65535", n, minPort)
	}
}

func (c *Config) checkLimits(col *collector) {
	l := c.Limits
	if l.MaxMessageSize <= 0 {
		col.add("limits.max_message_size", "must be more than 0")
	}
	if l.MaxRecipients < 1 {
		col.add("limits.max_recipients", "must be at least 1")
	}
	// RFC 5321 §4.5.3.1.6: a text line may hold 1000 octets with its CRLF;
	// a lower limit would refuse conforming mail.
	if l.MaxLineLength < 1000 {
		col.add("limits.max_line_length", "must be at least 1000 (RFC 5321 §4.5.3.1.6)")
	}
	positive(col, "limits.idle_timeout", l.IdleTimeout)
	positive(col, "limits.session_timeout", l.SessionTimeout)
	positive(col, "limits.remember_delivered", l.RememberDelivered)
	if l.MaxConnsPerIP < 0 {
		col.add("limits.max_conns_per_ip", "must not be negative (0 means no limit)")
	}
	positive(col, "limits.preauth_timeout", l.PreAuthTimeout)
	if l.PreAuthTimeout.Duration > l.IdleTimeout.Duration && l.IdleTimeout.Duration > 0 {
		col.add("limits.preauth_timeout", "must not be longer than limits.idle_timeout (%s)", l.IdleTimeout.Duration)
	}
	if l.MaxConns < 1 {
		col.add("limits.max_conns", "must be at least 1")
	}
	if l.MaxErrors < 1 {
		col.add("limits.max_errors", "must be at least 1")
	}
}

func (c *Config) checkAuth(col *collector) {
	a := c.Auth
	positive(col, "auth.fail_window", a.FailWindow)
	if a.SlowAfter < 0 {
		col.add("auth.slow_after", "must not be negative (0 never slows down)")
	}
	if a.BlockAfter < 0 {
		col.add("auth.block_after", "must not be negative (0 never blocks)")
	}
	if a.SlowAfter > 0 && a.BlockAfter > 0 && a.BlockAfter <= a.SlowAfter {
		col.add("auth.block_after", "must be more than auth.slow_after (%d)", a.SlowAfter)
	}
	for _, k := range []struct {
		key string
		n   int
	}{{"auth.client_block_after", a.ClientBlockAfter}, {"auth.user_block_after", a.UserBlockAfter}} {
		key, n := k.key, k.n
		switch {
		case n < 0:
			col.add(key, "must not be negative (0 never blocks)")
		case n > 0 && a.BlockAfter > 0 && n < a.BlockAfter:
			col.add(key, "must be at least auth.block_after (%d)", a.BlockAfter)
		}
	}
}

// checkProxies checks server.trusted_proxies, and that a listener reading
// PROXY headers has proxies to read them from: without one it would
// refuse every connection.
func (c *Config) checkProxies(col *collector) {
	for i, s := range c.Server.TrustedProxies {
		if _, err := TrustedNetwork(s); err != nil {
			col.add(fmt.Sprintf("server.trusted_proxies[%d]", i), "%v", err)
		}
	}
	if len(c.Server.TrustedProxies) > 0 {
		return
	}
	for i, l := range c.Listeners {
		if l.ProxyProtocol {
			col.add(fmt.Sprintf("listener[%d].proxy_protocol", i), "needs server.trusted_proxies: the load balancers allowed to send PROXY headers")
		}
	}
	if c.Web.ProxyProtocol {
		col.add("web.proxy_protocol", "needs server.trusted_proxies: the load balancers allowed to send PROXY headers")
	}
}

func (c *Config) checkLog(col *collector) {
	switch c.Log.Format {
	case LogText, LogJSON:
	default:
		col.add("log.format", "unknown format %q; use \"text\" or \"json\"", c.Log.Format)
	}
	switch c.Log.Level {
	case LevelDebug, LevelInfo, LevelWarn, LevelError:
	default:
		col.add("log.level", "unknown level %q; use \"debug\", \"info\", \"warn\" or \"error\"", c.Log.Level)
	}
}

func positive(col *collector, key string, d Duration) {
	if d.Duration <= 0 {
		col.add(key, "must be more than 0")
	}
}
