package suppression_test

import (
	"strings"
	"testing"
	"time"

	"github.com/dncgate/dncgate/caps"
	"github.com/dncgate/dncgate/config"
	"github.com/dncgate/dncgate/contactdb"
	"github.com/dncgate/dncgate/internal/teststore"
	"github.com/dncgate/dncgate/suppression"
)

// TestErase erases a person with a contact record and counts in a
// recipient cap: opted out, record deleted, counts reset, others kept.
func TestErase(t *testing.T) {
	teststore.Each(t, func(t *testing.T, st teststore.Store) {
		ctx := t.Context()
		f := newFixture(t, st, config.Policy{})
		f.contact("Jane@acme.fr", "FR", contactdb.TypeConsumer)
		rules := []caps.Rule{
			{Name: "per-person", Scope: caps.ScopeRecipient, Limit: 2, Window: 24 * time.Hour},
			{Name: "per-rep", Scope: caps.ScopeRep, Limit: 100, Window: 24 * time.Hour},
		}
		chk, err := caps.New(rules, st, testKey, caps.Options{})
		if err != nil {
			t.Fatal(err)
		}
		now := time.Now()
		for _, rcpt := range []string{"jane@acme.fr", "john@acme.fr"} {
			tk, ref, err := chk.Reserve(ctx, "rep@us.test", rcpt, "FR", "<m-"+rcpt+">", now)
			if err != nil || ref != nil {
				t.Fatalf("reserve %s: %v, %v", rcpt, ref, err)
			}
			if err := tk.Commit(ctx, now); err != nil {
				t.Fatal(err)
			}
		}
		outs := suppression.NewOptOuts(st, testKey)
		e := suppression.Erasure{OptOuts: outs, Contacts: st.Contacts(), Caps: chk}
		done, err := e.Erase(ctx, "Jane+news@ACME.fr")
		if err != nil {
			t.Fatal(err)
		}
		if done.Contact != suppression.ContactDeleted || done.CapCounts != 1 {
			t.Errorf("erase: %+v, want the record deleted and 1 cap reset", done)
		}
		if out, err := outs.IsOptedOut(ctx, "jane@acme.fr"); err != nil || !out {
			t.Errorf("opted out after the erasure: %v, %v", out, err)
		}
		d, _ := outs.Digest("jane@acme.fr")
		if _, found, err := st.Contacts().Contact(ctx, d); err != nil || found {
			t.Errorf("contact record after the erasure: found %v, %v", found, err)
		}
		key := func(r caps.Rule, rep, rcpt string) string {
			k, err := caps.Key(r, rep, rcpt)
			if err != nil {
				t.Fatal(err)
			}
			return k
		}
		for rcpt, want := range map[string]int{"jane@acme.fr": 0, "john@acme.fr": 1} {
			u, err := chk.Usage(ctx, "per-person", key(rules[0], "", rcpt), now)
			if err != nil || u.Count != want {
				t.Errorf("per-person count of %s: %d, %v; want %d", rcpt, u.Count, err, want)
			}
		}
		if u, err := chk.Usage(ctx, "per-rep", key(rules[1], "rep@us.test", ""), now); err != nil || u.Count != 2 {
			t.Errorf("per-rep count: %d, %v; want 2 (not the person's)", u.Count, err)
		}

		// Again: nothing left to delete, still opted out.
		if done, err := e.Erase(ctx, "jane@acme.fr"); err != nil || done.Contact != suppression.ContactNone {
			t.Errorf("second erasure: %+v, %v", done, err)
		}
		if done, err := (suppression.Erasure{OptOuts: outs}).Erase(ctx, "bob@acme.fr"); err != nil ||
			done.Contact != suppression.ContactNotKept || done.CapCounts != 0 {
			t.Errorf("erasure without contacts or caps: %+v, %v", done, err)
		}
		if _, err := e.Erase(ctx, "not an address"); err == nil || !strings.Contains(err.Error(), "erasure") {
			t.Errorf("erasing a bad address: %v", err)
		}
	})
}
