package config

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

func (c *Config) checkStore(col *collector) {
	s := c.Store
	switch s.Backend {
	case BackendEmbedded:
		// Forgetting backend = "redis" would quietly give each instance
		// its own store, and caps would no longer hold across instances.
		if s.RedisURL != "" || len(s.RedisCluster) > 0 {
			col.add("store.backend", "redis_url or redis_cluster is set but backend is %q; set backend = %q to use Redis", s.Backend, BackendRedis)
		}
	case BackendRedis:
		checkRedis(col, s)
	default:
		col.add("store.backend", "unknown backend %q; use %q or %q", s.Backend, BackendEmbedded, BackendRedis)
	}
}

func checkRedis(col *collector, s Store) {
	switch {
	case s.RedisURL == "" && len(s.RedisCluster) == 0:
		col.add("store.redis_url", "required with backend = %q (or set redis_cluster)", BackendRedis)
	case s.RedisURL != "" && len(s.RedisCluster) > 0:
		col.add("store.redis_cluster", "set either redis_url or redis_cluster, not both")
	case s.RedisURL != "":
		if err := checkRedisURL(s.RedisURL); err != nil {
			col.add("store.redis_url", "%v", err)
		}
	default:
		for i, a := range s.RedisCluster {
			checkHostPort(col, "store.redis_cluster["+strconv.Itoa(i)+"]", a, 1)
		}
	}
	if s.RedisCAFile != "" {
		checkFile(col, "store.redis_ca_file", s.RedisCAFile, "")
		if !s.RedisUsesTLS() {
			col.add("store.redis_ca_file", "set, but the connection is not TLS: use rediss:// or redis_tls = true")
		}
	}
}

// checkRedisURL accepts redis://[user:pass@]host[:port][/db], rediss://
// and unix:///path/to/socket.
// Messages never repeat the URL, which may hold a password.
func checkRedisURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("not a URL")
	}
	switch u.Scheme {
	case "redis", "rediss":
	case "unix":
		if u.Path == "" {
			return fmt.Errorf("unix:// needs a socket path, as in unix:///run/redis/redis.sock")
		}
		return nil
	default:
		return fmt.Errorf("unknown scheme %q; use redis://, rediss:// or unix://", u.Scheme)
	}
	if u.Hostname() == "" {
		return fmt.Errorf("needs a host, as in redis://10.0.0.1:6379/0")
	}
	if p := u.Port(); p != "" {
		if n, err := parsePort(p); err != nil || n == 0 {
			return fmt.Errorf("port %q out of range 1-65535", p)
		}
	}
	if db := strings.TrimPrefix(u.Path, "/"); db != "" {
		if n, err := strconv.Atoi(db); err != nil || n < 0 {
			return fmt.Errorf("database %q is not a number", db)
		}
	}
	return nil
}

// RedisUsesTLS reports whether the Redis connection must use TLS: rediss://
// or redis_tls = true.
func (s Store) RedisUsesTLS() bool {
	return s.RedisTLS || strings.HasPrefix(s.RedisURL, "rediss://")
}
