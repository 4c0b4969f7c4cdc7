package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/dncgate/dncgate/listdb"
	"github.com/dncgate/dncgate/store"
)

// runIdentity checks the identity record and the guard on list reads.
func runIdentity(t *testing.T, open func(t *testing.T) Harness) {
	t.Run("CreateReadMark", func(t *testing.T) {
		st := open(t).Store
		ctx := t.Context()
		if _, err := st.Identity(ctx); !errors.Is(err, store.ErrNoIdentity) {
			t.Fatalf("Identity of a new store: %v, want ErrNoIdentity", err)
		}
		if err := st.MarkLinksSent(ctx); !errors.Is(err, store.ErrNoIdentity) {
			t.Fatalf("MarkLinksSent without a record: %v, want ErrNoIdentity", err)
		}
		key := []byte("0123456789abcdef0123456789abcdef")
		id, err := store.NewIdentity(key, time.Date(2026, 3, 1, 9, 30, 0, 123456789, time.UTC))
		if err != nil {
			t.Fatal(err)
		}
		if err := st.CreateIdentity(ctx, id, false); err != nil {
			t.Fatalf("CreateIdentity: %v", err)
		}
		other, _ := store.NewIdentity(key, time.Now())
		if err := st.CreateIdentity(ctx, other, false); !errors.Is(err, store.ErrExists) {
			t.Fatalf("second CreateIdentity: %v, want ErrExists", err)
		}
		got, err := st.Identity(ctx)
		if err != nil || got != id {
			t.Fatalf("Identity = %+v, %v; want %+v", got, err, id)
		}
		if err := got.CheckKey(key); err != nil {
			t.Fatalf("CheckKey with the store's key: %v", err)
		}
		var ie *store.IdentityError
		if err := got.CheckKey([]byte("another key, 32 bytes long......")); !errors.As(err, &ie) || ie.Problem != store.IdentityWrongKey {
			t.Fatalf("CheckKey with another key: %v, want IdentityWrongKey", err)
		}
		if err := st.MarkLinksSent(ctx); err != nil {
			t.Fatalf("MarkLinksSent: %v", err)
		}
		if got, _ := st.Identity(ctx); !got.LinksSent || got.ID != id.ID {
			t.Fatalf("after MarkLinksSent: %+v", got)
		}
		if err := st.CreateIdentity(ctx, other, true); err != nil {
			t.Fatalf("CreateIdentity replacing: %v", err)
		}
		if got, _ := st.Identity(ctx); got.ID != other.ID || got.LinksSent {
			t.Fatalf("after replacing: %+v, want %+v", got, other)
		}
	})
	t.Run("Guard", func(t *testing.T) { runGuard(t, open) })
}

// runGuard checks that guarded list reads fail once the record is
// replaced or gone, and pass while it is the guarded one.
func runGuard(t *testing.T, open func(t *testing.T) Harness) {
	h := open(t)
	st := h.Store
	db, ok := st.(listdb.Store)
	if !ok {
		t.Fatalf("%T keeps no lists", st)
	}
	ctx := t.Context()
	if err := db.PutList(ctx, listdb.Meta{Name: "opt-out", Kind: "email", Model: "deny"}); err != nil {
		t.Fatal(err)
	}
	var d listdb.Digest
	d[0] = 7
	if err := db.AddEntry(ctx, "opt-out", d); err != nil {
		t.Fatal(err)
	}
	id, _ := store.NewIdentity([]byte("0123456789abcdef0123456789abcdef"), time.Now())
	if err := st.CreateIdentity(ctx, id, false); err != nil {
		t.Fatal(err)
	}
	probe := []listdb.Probe{{List: "opt-out", Digests: []listdb.Digest{d}}}
	reads := func() map[string]error {
		_, errL := db.Lists(ctx)
		a, errP := db.Lookup(ctx, probe)
		if errP == nil && !a[0].Found[0] {
			t.Fatalf("Lookup passed the guard but missed the entry")
		}
		return map[string]error{"Lists": errL, "Lookup": errP, "Ping": st.Ping(ctx)}
	}
	noErrors := func(what string) {
		t.Helper()
		for name, err := range reads() {
			if err != nil {
				t.Fatalf("%s: %s: %v", what, name, err)
			}
		}
	}
	st.Guard(id.ID)
	noErrors("guarded reads of the right store")
	other, _ := store.NewIdentity([]byte("0123456789abcdef0123456789abcdef"), time.Now())
	if err := st.CreateIdentity(ctx, other, true); err != nil {
		t.Fatal(err)
	}
	wantProblem(t, "replaced", store.IdentityChanged, reads)
	if h.DropIdentity == nil {
		return
	}
	h.DropIdentity(t)
	wantProblem(t, "dropped", store.IdentityMissing, reads)
	st.Guard("")
	noErrors("unguarded reads")
}

func wantProblem(t *testing.T, what string, p store.IdentityProblem, reads func() map[string]error) {
	t.Helper()
	for name, err := range reads() {
		var ie *store.IdentityError
		if !errors.As(err, &ie) || ie.Problem != p {
			t.Errorf("%s with the identity %s: %v, want an IdentityError of problem %d", name, what, err, p)
		}
	}
}
