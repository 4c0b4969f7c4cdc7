package config

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/dncgate/dncgate/smtpurl"
)

// outboxScheme starts the default upstream, an outbox folder.
const outboxScheme = string(smtpurl.SchemeOutbox) + ":"

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

// checkUpstreamURL applies the very parser the upstream dialer uses, so a
// URL that passes the check always dials. Its messages never repeat the
// URL, which may hold a password.
func checkUpstreamURL(raw string) error {
	if _, err := smtpurl.Parse(raw); err != nil {
		return errors.New(strings.TrimPrefix(err.Error(), "upstream URL: "))
	}
	return nil
}

func parsePort(p string) (int, error) {
	n, err := strconv.Atoi(p)
	if err != nil || n < 0 || n > 65535 {
		return 0, fmt.Errorf("bad port %q", p)
	}
	return n, nil
}
