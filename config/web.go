package config

import (
	"fmt"
	"os"
	"strings"
)

// MinMetricsTokenLen is the shortest metrics token accepted, in bytes.
const MinMetricsTokenLen = 16

func (c *Config) checkWeb(col *collector) {
	w := c.Web
	if w.Listen != "" {
		checkHostPort(col, "web.listen", w.Listen, 0)
	}
	if w.MetricsTokenFile == "" {
		return
	}
	if !w.Metrics {
		col.add("web.metrics_token_file", "set while web.metrics = false: remove one of them")
		return
	}
	if _, err := readMetricsToken(w.MetricsTokenFile); err != nil {
		col.add("web.metrics_token_file", "%v", err)
	}
}

// MetricsToken is the bearer token /metrics asks for, nil when none is
// configured.
func (c *Config) MetricsToken() ([]byte, error) {
	if c.Web.MetricsTokenFile == "" {
		return nil, nil
	}
	return readMetricsToken(c.Web.MetricsTokenFile)
}

// readMetricsToken reads the file's one line. Errors never echo the token.
func readMetricsToken(path string) ([]byte, error) {
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
