// Package smtpurl parses the URL that names where dncgate sends mail:
// smtp://, smtp+starttls://, smtps:// with optional credentials, or
// outbox:DIR. The configuration check and the upstream dialer share it, so
// a URL that passes one is never refused by the other.
package smtpurl

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
)

// Scheme says how the gateway talks to the upstream.
type Scheme string

const (
	SchemeSMTP     Scheme = "smtp"          // plain; STARTTLS is not attempted
	SchemeStartTLS Scheme = "smtp+starttls" // STARTTLS required (RFC 3207)
	SchemeSMTPS    Scheme = "smtps"         // implicit TLS (RFC 8314 §3.3)
	SchemeOutbox   Scheme = "outbox"        // .eml files in a folder
)

// defaultPorts: 25 for relay, 587 for submission with STARTTLS (RFC 6409
// §3.1), 465 for submission over implicit TLS (RFC 8314 §7.3).
var defaultPorts = map[Scheme]string{
	SchemeSMTP:     "25",
	SchemeStartTLS: "587",
	SchemeSMTPS:    "465",
}

const wantSchemes = "want smtp, smtp+starttls, smtps or outbox"

// Spec is a parsed upstream URL.
type Spec struct {
	Scheme   Scheme
	Host     string // host name or IP address, without brackets or port
	Port     string
	User     string // empty: no AUTH
	Password string
	Dir      string // outbox folder, for SchemeOutbox
}

// Addr returns host:port for dialing.
func (s Spec) Addr() string { return net.JoinHostPort(s.Host, s.Port) }

// TLS reports whether the connection to the upstream is encrypted.
func (s Spec) TLS() bool { return s.Scheme == SchemeStartTLS || s.Scheme == SchemeSMTPS }

// String returns the URL with the password masked, for logs and config checks.
func (s Spec) String() string {
	if s.Scheme == SchemeOutbox {
		return "outbox:" + s.Dir
	}
	user := ""
	if s.User != "" {
		user = url.User(s.User).String() + ":***@"
	}
	return string(s.Scheme) + "://" + user + s.Addr()
}

// Parse parses an upstream URL: smtp://, smtp+starttls://, smtps:// with
// an optional user:pass@ (URL-escaped), or outbox:DIR.
func Parse(raw string) (Spec, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return Spec{}, errors.New("upstream URL: empty")
	}
	if dir, ok := cutPrefixFold(raw, "outbox:"); ok {
		return parseOutbox(dir)
	}
	u, err := url.Parse(raw)
	if err != nil {
		// url.Error repeats the whole URL, password included: keep the reason.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return Spec{}, fmt.Errorf("upstream URL: %v", err)
	}
	return parseSMTP(u)
}

func parseOutbox(dir string) (Spec, error) {
	if dir == "" {
		return Spec{}, errors.New("upstream URL: outbox needs a folder, as in outbox:/var/spool/dncgate")
	}
	if strings.HasPrefix(dir, "//") {
		return Spec{}, fmt.Errorf("upstream URL: write outbox:DIR, as in outbox:/var/spool/dncgate, not outbox:%s", dir)
	}
	return Spec{Scheme: SchemeOutbox, Dir: filepath.Clean(dir)}, nil
}

func parseSMTP(u *url.URL) (Spec, error) {
	s := Spec{Scheme: Scheme(strings.ToLower(u.Scheme))}
	if err := checkScheme(s.Scheme); err != nil {
		return Spec{}, err
	}
	if err := checkShape(u); err != nil {
		return Spec{}, err
	}
	s.Host = u.Hostname()
	s.Port = u.Port()
	if s.Port == "" {
		s.Port = defaultPorts[s.Scheme]
	}
	if n, err := strconv.Atoi(s.Port); err != nil || n < 1 || n > 65535 {
		return Spec{}, fmt.Errorf("upstream URL: bad port %q", s.Port)
	}
	if err := s.setUser(u.User); err != nil {
		return Spec{}, err
	}
	return s, nil
}

func checkScheme(sc Scheme) error {
	if sc == "" {
		return errors.New("upstream URL: missing scheme; " + wantSchemes)
	}
	if _, ok := defaultPorts[sc]; !ok {
		return fmt.Errorf("upstream URL: unknown scheme %q; %s", string(sc), wantSchemes)
	}
	return nil
}

func checkShape(u *url.URL) error {
	switch {
	case u.Opaque != "" || u.Hostname() == "":
		return fmt.Errorf("upstream URL: missing host; write %s://host:port", u.Scheme)
	case u.Path != "" && u.Path != "/":
		return fmt.Errorf("upstream URL: unexpected path %q", u.Path)
	case u.RawQuery != "" || u.Fragment != "":
		return errors.New("upstream URL: unexpected query or fragment")
	}
	return nil
}

// setUser takes the credentials. PLAIN and LOGIN send the password in the
// clear, so they are allowed without TLS only to this machine (RFC 4616 §6).
func (s *Spec) setUser(ui *url.Userinfo) error {
	if ui == nil {
		return nil
	}
	s.User = ui.Username()
	s.Password, _ = ui.Password()
	switch {
	case s.User == "":
		return errors.New("upstream URL: empty user name before @")
	case s.Password == "":
		return errors.New("upstream URL: user without password; write user:password@host")
	case !s.TLS() && !isLoopback(s.Host):
		return errors.New("upstream URL: the password would cross the network unencrypted; use smtp+starttls:// or smtps://")
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

// cutPrefixFold is strings.CutPrefix ignoring ASCII case, since URL schemes
// are case-insensitive (RFC 3986 §3.1).
func cutPrefixFold(s, prefix string) (string, bool) {
	if len(s) < len(prefix) || !strings.EqualFold(s[:len(prefix)], prefix) {
		return s, false
	}
	return s[len(prefix):], true
}
