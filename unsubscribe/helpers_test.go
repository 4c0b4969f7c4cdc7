package unsubscribe_test

import (
	"bytes"
	"context"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dncgate/dncgate/internal/testredis"
	"github.com/dncgate/dncgate/listdb"
	"github.com/dncgate/dncgate/listmodel"
	"github.com/dncgate/dncgate/lists"
	"github.com/dncgate/dncgate/store/embedded"
	"github.com/dncgate/dncgate/store/redisstore"
	"github.com/dncgate/dncgate/unsubscribe/token"
)

// testOrg is the organisation the handlers under test serve.
const testOrg = "acme"

var (
	tokenSecret = bytes.Repeat([]byte{7}, token.MinSecretLen)
	digestKey   = bytes.Repeat([]byte{9}, 32)
	// start is the tests' clock reading at the beginning, mid-window so
	// the rate limit's window does not end by accident.
	start = time.Date(2026, 5, 4, 10, 0, 30, 0, time.UTC)
)

const optOutList = listmodel.OptOut

func testKeyring(t testing.TB) *token.Keyring {
	t.Helper()
	kr, err := token.NewKeyring(token.Key{ID: 1, Secret: tokenSecret})
	if err != nil {
		t.Fatal(err)
	}
	return kr
}

// clock is a settable time source.
type clock struct{ ns atomic.Int64 }

func newClock(t time.Time) *clock {
	c := &clock{}
	c.ns.Store(t.UnixNano())
	return c
}

func (c *clock) Now() time.Time          { return time.Unix(0, c.ns.Load()).UTC() }
func (c *clock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

// listOptOuts records opt-outs on the opt-out list the way the gateway
// does: the keyed digest of the normalised address.
type listOptOuts struct {
	db listdb.Store
}

func (o listOptOuts) OptOut(ctx context.Context, addr string) error {
	return o.db.AddEntry(ctx, optOutList, digestOf(addr))
}

func digestOf(addr string) listdb.Digest {
	norm, err := lists.NormaliseEmail(addr)
	if err != nil {
		panic(err)
	}
	return listdb.Key(digestKey, "email", norm)
}

// optedOut reports whether db's opt-out list holds addr.
func optedOut(t testing.TB, db listdb.Store, addr string) bool {
	t.Helper()
	got, err := db.Contains(context.Background(), optOutList, digestOf(addr))
	if err != nil {
		t.Fatal(err)
	}
	return got[0]
}

// storePair is two instances on one store: the handler writes through
// the first, the test reads through the second, as another gateway
// instance or the CLI would.
type storePair struct {
	name          string
	writer, other listdb.Store
}

func embeddedPair(t testing.TB) storePair {
	path := filepath.Join(t.TempDir(), "dncgate.db")
	return storePair{"embedded", openEmbedded(t, path), openEmbedded(t, path)}
}

func openEmbedded(t testing.TB, path string) listdb.Store {
	t.Helper()
	st, err := embedded.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func redisPair(t testing.TB) storePair {
	addr := testredis.Start(t)
	return storePair{"redis", openRedis(t, addr), openRedis(t, addr)}
}

func openRedis(t testing.TB, addr string) listdb.Store {
	t.Helper()
	st, err := redisstore.Open(context.Background(), redisstore.Options{URL: "redis://" + addr})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// withOptOutList creates the opt-out list, as the gateway does at start.
func withOptOutList(t testing.TB, p storePair) storePair {
	t.Helper()
	err := p.writer.PutList(context.Background(), listdb.Meta{Name: optOutList, Kind: "email", Model: "deny"})
	if err != nil {
		t.Fatal(err)
	}
	return p
}
