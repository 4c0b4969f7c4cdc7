package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"path/filepath"

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
	Contacts() contactdb.Store
}

var (
	_ backend = (*embedded.Store)(nil)
	_ backend = (*redisstore.Store)(nil)
)

// openStore opens the store the configuration names.
func openStore(ctx context.Context, cfg *config.Config) (backend, error) {
	switch cfg.Store.Backend {
	case config.BackendRedis:
		return openRedis(ctx, cfg.Store)
	case config.BackendEmbedded:
		return openEmbedded(cfg.StorePath())
	}
	return nil, fmt.Errorf("unknown store backend %q", cfg.Store.Backend)
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
