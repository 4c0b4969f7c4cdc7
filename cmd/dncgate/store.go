package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"github.com/dncgate/dncgate/webhook"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/dncgate/dncgate/caps"
	"github.com/dncgate/dncgate/config"
	"github.com/dncgate/dncgate/contactdb"
	"github.com/dncgate/dncgate/listdb"
	"github.com/dncgate/dncgate/store"
	"github.com/dncgate/dncgate/store/embedded"
	"github.com/dncgate/dncgate/store/redisstore"
)

// backend is what each store implementation keeps: the gateway's own
// records, the lists, the caps' sends and the CRM contacts. Both declare it
// at compile time, so no command asks the store at run time what it keeps.
type backend interface {
	store.Store
	listdb.Store
	listdb.ManualCounter
	caps.Store
	webhook.Queue
	Contacts() contactdb.Store
	// ServerWarnings are the settings of the store's server that can lose
	// its data (Redis: an evicting maxmemory-policy, no persistence), one
	// line each, or a line saying they could not be read; serve and init
	// print them and go on.
	ServerWarnings(ctx context.Context) []string
}

var (
	_ backend = (*embedded.Store)(nil)
	_ backend = (*redisstore.Store)(nil)
)

// openStore opens the store the configuration names, creating nothing:
// an embedded store whose file is missing is an error naming the path.
func openStore(ctx context.Context, cfg *config.Config) (backend, error) {
	if cfg.Store.Backend == config.BackendEmbedded {
		if _, err := os.Stat(cfg.StorePath()); errors.Is(err, fs.ErrNotExist) {
			return nil, noStore(cfg)
		}
	}
	return openOrMakeStore(ctx, cfg)
}

// openOrMakeStore opens the store, creating the embedded store's file
// (not its identity) when missing: for init and serve.
func openOrMakeStore(ctx context.Context, cfg *config.Config) (backend, error) {
	switch cfg.Store.Backend {
	case config.BackendRedis:
		return openRedis(ctx, cfg.Store)
	case config.BackendEmbedded:
		return openEmbedded(cfg.StorePath())
	}
	return nil, fmt.Errorf("unknown store backend %q", cfg.Store.Backend)
}

// where names the store for messages, without credentials.
func where(cfg *config.Config) string {
	if cfg.Store.Backend == config.BackendRedis {
		if len(cfg.Store.RedisCluster) > 0 {
			return "the Redis cluster " + strings.Join(cfg.Store.RedisCluster, ",")
		}
		return "the Redis store at " + redisHost(cfg.Store.RedisURL)
	}
	return cfg.StorePath()
}

// redisHost is a Redis URL's host and database, without credentials.
func redisHost(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "store.redis_url"
	}
	return u.Host + u.Path
}

// noStore is the error of a command that found no store: exit 2, like a
// mistyped flag, which is what it usually is.
func noStore(cfg *config.Config) error {
	return &usageError{msg: fmt.Sprintf("dncgate: no store at %s: check --data and --config, or run `dncgate init` (or `dncgate serve`) to create it", where(cfg))}
}

// openChecked opens the store for a command: it must exist, hold an
// identity record and have been created with the configured digest key.
// The store comes back guarded, so that a store emptied meanwhile fails
// every list read.
func openChecked(ctx context.Context, cfg *config.Config) (backend, error) {
	st, err := openStore(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if err := checkIdentity(ctx, cfg, st); err != nil {
		st.Close()
		return nil, err
	}
	return st, nil
}

// checkIdentity compares the store's identity with the configured key
// and guards the store with it.
func checkIdentity(ctx context.Context, cfg *config.Config, st backend) error {
	id, err := st.Identity(ctx)
	if errors.Is(err, store.ErrNoIdentity) {
		return missingIdentity(ctx, cfg, st)
	}
	if err != nil {
		return err
	}
	key, err := cfg.HMACKey()
	if err != nil {
		return err
	}
	if err := id.CheckKey(key); err != nil {
		return fmt.Errorf("%s: %w", where(cfg), err)
	}
	st.Guard(id.ID)
	return nil
}

// missingIdentity explains a store without identity record: an empty
// Redis is no store at all; anything else was emptied in part or made by
// an older dncgate.
func missingIdentity(ctx context.Context, cfg *config.Config, st backend) error {
	used, err := holdsData(ctx, st)
	if err != nil {
		return err
	}
	if !used {
		if cfg.Store.Backend == config.BackendRedis {
			return &usageError{msg: fmt.Sprintf("dncgate: %s holds no dncgate store (a Redis restarted without persistence, flushed, or the wrong database number): "+
				"restore it from a backup, or run `dncgate init` to create a new, empty one", where(cfg))}
		}
		return noStore(cfg)
	}
	return fmt.Errorf("%s holds data but no identity record: it lost keys (a Redis evicting or flushed in part) or was made by an older dncgate; "+
		"restore it, or, if its digest key is the one it was made with, record it with `dncgate init --force`", where(cfg))
}

// holdsData reports whether the store has users or lists.
func holdsData(ctx context.Context, st backend) (bool, error) {
	users, err := st.ListUsers(ctx)
	if err != nil || len(users) > 0 {
		return len(users) > 0, err
	}
	infos, err := st.Lists(ctx)
	return len(infos) > 0, err
}

func openEmbedded(path string) (backend, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("store folder: %w", err)
	}
	st, err := embedded.Open(path)
	if err != nil {
		return nil, fmt.Errorf("opening the embedded store %s: %w", path, err)
	}
	return st, nil
}

func openRedis(ctx context.Context, s config.Store) (backend, error) {
	opts := redisstore.Options{
		URL:          s.RedisURL,
		ClusterAddrs: s.RedisCluster,
		Username:     s.RedisUsername,
		Password:     s.RedisPassword,
		Prefix:       s.Prefix,
	}
	// rediss:// alone needs nothing here: the store then uses the
	// system's roots and the URL's host name.
	if s.RedisTLS || s.RedisCAFile != "" {
		t, err := redisTLS(s.RedisCAFile)
		if err != nil {
			return nil, err
		}
		opts.TLS = t
	}
	st, err := redisstore.Open(ctx, opts)
	if err != nil {
		// The error may quote the URL; say where without repeating it.
		return nil, fmt.Errorf("opening the redis store: %w", err)
	}
	return st, nil
}

// redisTLS trusts caFile when given, else the system's roots.
func redisTLS(caFile string) (*tls.Config, error) {
	t := &tls.Config{MinVersion: tls.VersionTLS12}
	if caFile == "" {
		return t, nil
	}
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("store.redis_ca_file: %w", err)
	}
	t.RootCAs = x509.NewCertPool()
	if !t.RootCAs.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("store.redis_ca_file: %s holds no PEM certificate", caFile)
	}
	return t, nil
}
