// Package redisstore keeps the store in Redis, single node or Redis
// Cluster, so that several gateway instances share users, delivered marks
// and throttle counters.
//
// Key layout (prefix "dncgate:" by default):
//
//	{users}            set of user emails (the index)
//	{users}:EMAIL      hash: role, send_as (JSON), pw, created, updated,
//	                   disabled, disabled_at, disabled_by, last_login
//	dlv:{MSG}          hash: one field per delivered rcpt digest, with a TTL
//	cnt:{KEY}          integer counter, with the window as TTL
//	identity:{opt-out} hash: the store's identity (identity.go)
//	{login}:KEY        login attempt counter, with the window as TTL
//
// Every user key carries the same hash tag, so in a cluster they all live
// in one slot and a user and the index change together in one script.
// There are a few hundred users at most, read once per login, so the one
// slot is never hot. Deliveries and counters are single keys, tagged by
// their own name so they spread over the cluster. Login attempt counters
// share the {login} tag, so that one script counts an attempt against its
// user and client pair, its client and its user together; logins are
// rare next to messages, and each client's limits bound its attempts.
package redisstore

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/dncgate/dncgate/store"
)

// DefaultPrefix starts every key when Options.Prefix is empty.
const DefaultPrefix = "dncgate:"

var (
	errEmptyEmail = errors.New("redisstore: empty email")
	errBadTTL     = errors.New("redisstore: ttl must be positive")
	errBadWindow  = errors.New("redisstore: window must be positive")
)

// Options say where Redis is. Set URL for one node or ClusterAddrs for a
// cluster, not both.
type Options struct {
	// URL is redis://[user:pass@]host:port[/db], rediss://… for TLS, or
	// unix:///path.
	URL string
	// ClusterAddrs are host:port seeds of a Redis Cluster.
	ClusterAddrs []string
	// Password and Username, when set, override those in URL.
	Password string
	Username string
	// TLS, when set, is used instead of the URL's default (none for
	// redis://, system roots for rediss://).
	TLS *tls.Config
	// Prefix starts every key; DefaultPrefix when empty.
	Prefix string
}

// Store is the Redis store, safe for concurrent use.
type Store struct {
	c     redis.UniversalClient
	keys  keys
	now   func() time.Time
	heads heads // the list versions Lookup last found current

	contacts contactStore // the contacts, with their cached current version

	capsBatch capBatchers // merges concurrent cap checks on a single node

	guard atomic.Pointer[string] // the identity list reads expect (identity.go)
}

var _ store.Store = (*Store)(nil)

// Open connects and pings, so that a wrong address fails at start-up with
// an error naming it rather than at the first login.
func Open(ctx context.Context, o Options) (*Store, error) {
	c, where, err := newClient(o)
	if err != nil {
		return nil, err
	}
	if err := c.Ping(ctx).Err(); err != nil {
		c.Close()
		return nil, fmt.Errorf("redisstore: cannot reach Redis at %s: %w", where, err)
	}
	prefix := o.Prefix
	if prefix == "" {
		prefix = DefaultPrefix
	}
	s := &Store{c: c, keys: keys{prefix}, now: time.Now}
	s.contacts.s = s
	s.capsBatch = newCapBatchers(s)
	return s, nil
}

// newClient builds the client and names where it points, without
// credentials, for error messages.
func newClient(o Options) (redis.UniversalClient, string, error) {
	switch {
	case o.URL != "" && len(o.ClusterAddrs) > 0:
		return nil, "", errors.New("redisstore: set either a URL or cluster addresses, not both")
	case len(o.ClusterAddrs) > 0:
		c := redis.NewClusterClient(&redis.ClusterOptions{
			Addrs: o.ClusterAddrs, Username: o.Username, Password: o.Password, TLSConfig: o.TLS,
		})
		c.AddHook(reloadOnFailure{c})
		return c, "cluster " + strings.Join(o.ClusterAddrs, ","), nil
	case o.URL != "":
		opt, err := redis.ParseURL(o.URL)
		if err != nil {
			return nil, "", fmt.Errorf("redisstore: bad Redis URL: %w", withoutURL(err))
		}
		override(opt, o)
		return redis.NewClient(opt), opt.Addr, nil
	default:
		return nil, "", errors.New("redisstore: no Redis URL or cluster addresses")
	}
}

func override(opt *redis.Options, o Options) {
	if o.Username != "" {
		opt.Username = o.Username
	}
	if o.Password != "" {
		opt.Password = o.Password
	}
	if o.TLS != nil {
		opt.TLSConfig = o.TLS
	}
}

// withoutURL drops the URL that url.Parse quotes in its errors: it may
// hold a password, and errors end up in logs.
func withoutURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// Ping checks that Redis answers and, when guarded, that it is still the
// store it was (identity.go): a store emptied is not ready to send.
func (s *Store) Ping(ctx context.Context) error {
	if s.guarded() == "" {
		if err := s.c.Ping(ctx).Err(); err != nil {
			return fmt.Errorf("redisstore: ping: %w", err)
		}
		return nil
	}
	var guard *redis.SliceCmd
	if _, err := s.c.Pipelined(ctx, func(p redis.Pipeliner) error {
		guard = s.queueGuard(ctx, p)
		return nil
	}); err != nil {
		return fmt.Errorf("redisstore: ping: %w", err)
	}
	return s.checkGuard(guard)
}

// Close closes the connections.
func (s *Store) Close() error { return s.c.Close() }

// keys builds every key from the prefix; see the package comment.
type keys struct{ prefix string }

func (k keys) userIndex() string           { return k.prefix + "{users}" }
func (k keys) user(email string) string    { return k.prefix + "{users}:" + email }
func (k keys) delivered(msg string) string { return k.prefix + "dlv:{" + msg + "}" }
func (k keys) counter(key string) string   { return k.prefix + "cnt:{" + key + "}" }
func (k keys) attempt(key string) string   { return k.prefix + "{login}:" + key }
