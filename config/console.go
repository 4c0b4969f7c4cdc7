package config

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Console configures the managers' web console, served on web.listen.
type Console struct {
	Enabled     bool     `toml:"enabled"`
	SessionIdle Duration `toml:"session_idle"` // a session unused this long ends; default 30m
	SessionMax  Duration `toml:"session_max"`  // a session ends this long after its login; default 12h
	// InsecureCookie drops the cookie's Secure attribute, for a console
	// tried out over plain HTTP on a loopback web.listen only.
	InsecureCookie bool `toml:"insecure_cookie"`
	// LogoFile is a PNG, JPEG, GIF or SVG shown beside [footer] company.
	LogoFile string `toml:"logo_file"`
}

// MaxLogoSize bounds console.logo_file: a logo, not a photograph.
const MaxLogoSize = 256 << 10

func defaultConsole() Console {
	return Console{SessionIdle: Duration{30 * time.Minute}, SessionMax: Duration{12 * time.Hour}}
}

func (c *Config) checkConsole(col *collector) {
	k := c.Console
	if !k.Enabled {
		return
	}
	if c.Web.Listen == "" {
		col.add("console.enabled", "the console is served on web.listen, which is not set")
	}
	positive(col, "console.session_idle", k.SessionIdle)
	positive(col, "console.session_max", k.SessionMax)
	if k.SessionIdle.Duration > k.SessionMax.Duration {
		col.add("console.session_idle", "%s is longer than console.session_max %s", k.SessionIdle.Duration, k.SessionMax.Duration)
	}
	if k.InsecureCookie && !loopbackListen(c.Web.Listen) {
		col.add("console.insecure_cookie", "allowed only when web.listen is a loopback address (it is %q): elsewhere the session cookie must be Secure behind HTTPS", c.Web.Listen)
	}
	if k.LogoFile != "" {
		if _, _, err := c.ConsoleLogo(); err != nil {
			col.add("console.logo_file", "%v", err)
		}
	}
}

// loopbackListen reports whether addr listens on a loopback address only.
func loopbackListen(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.IsLoopback()
}

// ConsoleLogo reads console.logo_file and its media type; nil when none.
func (c *Config) ConsoleLogo() ([]byte, string, error) {
	path := c.Console.LogoFile
	if path == "" {
		return nil, "", nil
	}
	if err := readableFile(path); err != nil {
		return nil, "", err
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, "", err
	}
	if len(b) > MaxLogoSize {
		return nil, "", fmt.Errorf("%s is %d bytes; a logo may have %d at most", path, len(b), MaxLogoSize)
	}
	if strings.EqualFold(filepath.Ext(path), ".svg") {
		return b, "image/svg+xml", nil
	}
	switch t := http.DetectContentType(b); t {
	case "image/png", "image/jpeg", "image/gif":
		return b, t, nil
	default:
		return nil, "", fmt.Errorf("%s is %s, not a PNG, JPEG, GIF or SVG image", path, t)
	}
}
