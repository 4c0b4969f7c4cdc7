package suppression_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/dncgate/dncgate/internal/testredis"
	"github.com/dncgate/dncgate/listdb"
	"github.com/dncgate/dncgate/listmodel"
	"github.com/dncgate/dncgate/store/embedded"
	"github.com/dncgate/dncgate/store/redisstore"
	"github.com/dncgate/dncgate/suppression"
)

var optOutTestKey = []byte("0123456789abcdef0123456789abcdef")

func optOutEmbedded(t *testing.T) listdb.Store {
	t.Helper()
	st, err := embedded.Open(filepath.Join(t.TempDir(), "dncgate.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func optOutRedis(t *testing.T, addr string) listdb.Store {
	t.Helper()
	st, err := redisstore.Open(context.Background(), redisstore.Options{URL: "redis://" + addr})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func TestOptOutsEmbedded(t *testing.T) {
	db := optOutEmbedded(t)
	checkOptOuts(t, db, db)
}

// TestOptOutsRedis writes through one store instance and reads through
// another, as two gateway instances sharing Redis do.
func TestOptOutsRedis(t *testing.T) {
	addr := testredis.Start(t)
	checkOptOuts(t, optOutRedis(t, addr), optOutRedis(t, addr))
}

func checkOptOuts(t *testing.T, writer, reader listdb.Store) {
	ctx := context.Background()
	w := suppression.NewOptOuts(writer, optOutTestKey)
	r := suppression.NewOptOuts(reader, optOutTestKey)
	if err := w.OptOut(ctx, "jane@acme.fr"); err == nil {
		t.Fatal("OptOut before the list exists succeeded")
	}
	if err := suppression.EnsureOptOut(ctx, writer); err != nil {
		t.Fatal(err)
	}
	if got, err := r.IsOptedOut(ctx, "jane@acme.fr"); err != nil || got {
		t.Fatalf("IsOptedOut before = %v, %v; want false", got, err)
	}
	for range 2 { // the second time is a no-op, not an error
		if err := w.OptOut(ctx, "Jane+News@ACME.fr"); err != nil {
			t.Fatal(err)
		}
	}
	for addr, want := range map[string]bool{"jane@acme.fr": true, " JANE@acme.FR ": true, "john@acme.fr": false} {
		if got, err := r.IsOptedOut(ctx, addr); err != nil || got != want {
			t.Errorf("IsOptedOut(%q) = %v, %v; want %v", addr, got, err, want)
		}
	}
	if err := w.OptOut(ctx, "not an address"); err == nil {
		t.Error("OptOut of a non-address succeeded")
	}
	// The list holds the digest under the shared key, so the relay's check
	// and the lists commands see the same entry.
	d := listdb.Key(optOutTestKey, "email", "jane@acme.fr")
	if got, err := reader.Contains(ctx, listmodel.OptOut, d); err != nil || !got[0] {
		t.Errorf("opt-out list Contains(digest of jane@acme.fr) = %v, %v", got, err)
	}
}
