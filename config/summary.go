package config

import (
	"fmt"
	"log/slog"
	"strings"
)

// Summary is what the start-up line says of the configuration: where it
// came from and the few settings an operator looks for first, secrets
// masked. The whole configuration is logged at debug level (LogValue) and
// printed by config check.
func (c *Config) Summary() []slog.Attr {
	file := "built-in defaults"
	if c.src != nil && c.src.file != "" {
		file = c.src.file
	}
	var ls []string
	for _, l := range c.Listeners {
		ls = append(ls, fmt.Sprintf("%s=%s/%s", l.Name, l.Address, l.TLS))
	}
	store := "embedded " + c.StorePath()
	switch {
	case c.Store.Backend == BackendRedis && len(c.Store.RedisCluster) > 0:
		store = fmt.Sprintf("redis cluster (%d seeds)", len(c.Store.RedisCluster))
	case c.Store.Backend == BackendRedis:
		store = "redis " + maskURL(c.Store.RedisURL)
	}
	ledger := "sqlite " + c.LedgerPath()
	if c.Ledger.URL != "" {
		ledger = "postgres " + c.maskedLedger().URL
	}
	web := c.Web.Listen
	if web == "" {
		web = "off"
	}
	return []slog.Attr{
		slog.String("config", file),
		slog.String("listeners", strings.Join(ls, ",")),
		slog.String("upstream", maskURL(c.UpstreamURL())),
		slog.String("store", store),
		slog.String("ledger", ledger),
		slog.String("web", web),
		slog.Int("lists", len(c.Lists)),
		slog.Int("caps", len(c.Caps)),
		slog.Bool("footer", c.Footer.Enabled),
		slog.Bool("console", c.Console.Enabled),
	}
}
