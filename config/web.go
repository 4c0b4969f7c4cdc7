package config

import (
	"fmt"
	"os"
	"strings"
)

// MinMetricsTokenLen is the shortest metrics or pprof token accepted, in
// bytes.
const MinMetricsTokenLen = 16

func (c *Config) checkWeb(col *collector) {
	w := c.Web
	if w.Listen != "" {
		checkHostPort(col, "web.listen", w.Listen, 0)
	}
	c.checkPprof(col)
	if w.MetricsTokenFile == "" {
		return
	}
	if !w.Metrics {
		col.add("web.metrics_token_file", "set while web.metrics = false: remove one of them")
		return
	}
	if _, err := readTokenFile(w.MetricsTokenFile); err != nil {
		col.add("web.metrics_token_file", "%v", err)
	}
}

// checkPprof: the profiles show the gateway's memory, so they are never
// served without a token.
func (c *Config) checkPprof(col *collector) {
	w := c.Web
	switch {
	case !w.Pprof && w.PprofTokenFile != "":
		col.add("web.pprof_token_file", "set while web.pprof = false: remove one of them")
	case w.Pprof && w.PprofTokenFile == "":
		col.add("web.pprof", "needs web.pprof_token_file: the profiles are served only to requests bearing its token")
	case w.Pprof && w.Listen == "":
		col.add("web.pprof", "needs web.listen: the profiles are served on the web listener")
	case w.Pprof:
		if _, err := readTokenFile(w.PprofTokenFile); err != nil {
			col.add("web.pprof_token_file", "%v", err)
		}
	}
}

// PprofToken is the bearer token /debug/pprof/ asks for, nil when
// web.pprof is off.
func (c *Config) PprofToken() ([]byte, error) {
	if !c.Web.Pprof {
		return nil, nil
	}
	return readTokenFile(c.Web.PprofTokenFile)
}

// MetricsToken is the bearer token /metrics asks for, nil when none is
// configured.
func (c *Config) MetricsToken() ([]byte, error) {
	if c.Web.MetricsTokenFile == "" {
		return nil, nil
	}
	return readTokenFile(c.Web.MetricsTokenFile)
}

// readTokenFile reads the file's one line. Errors never echo the token.
func readTokenFile(path string) ([]byte, error) {
	if err := readableFile(path); err != nil {
		return nil, err
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	tok := strings.TrimSpace(string(b))
	switch {
	case strings.ContainsAny(tok, " \t\r\n"):
		return nil, fmt.Errorf("%s: the token must be one word on one line", path)
	case len(tok) < MinMetricsTokenLen:
		return nil, fmt.Errorf("%s: the token is %d bytes; at least %d are needed (make one with: head -c 24 /dev/urandom | base64)", path, len(tok), MinMetricsTokenLen)
	}
	return []byte(tok), nil
}
