package suppression_test

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dncgate/dncgate/caps"
	"github.com/dncgate/dncgate/config"
	"github.com/dncgate/dncgate/contactdb"
	"github.com/dncgate/dncgate/internal/teststore"
	"github.com/dncgate/dncgate/ledger"
	"github.com/dncgate/dncgate/ledger/ledgertest"
	ledgersqlite "github.com/dncgate/dncgate/ledger/sqlite"
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

// TestEraseLedger: one erasure reaches the send ledger too: the person's
// refusals deleted, their sent decisions kept without the address, other
// people's records untouched, and the erasure in the audit trail by whom,
// with the counts and without the person's digest.
func TestEraseLedger(t *testing.T) {
	teststore.Each(t, func(t *testing.T, st teststore.Store) {
		ctx := t.Context()
		newFixture(t, st, config.Policy{}) // the opt-out list
		l, err := ledgersqlite.Open(filepath.Join(t.TempDir(), "ledger.db"), ledgertest.DefaultRetention)
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		jane, john := ledger.RcptDigest(testKey, "jane@acme.fr"), ledger.RcptDigest(testKey, "john@acme.fr")
		var ds []ledger.Decision
		for i, v := range []ledger.Verdict{ledger.Allowed, ledger.Refused, ledger.Allowed} {
			for _, d := range []ledger.Digest{jane, john} {
				rec := ledgertest.Decision("REF", 0, time.Duration(i)*time.Minute, v)
				rec.RcptDigest, rec.Subject = d, "Hello"
				ds = append(ds, rec)
			}
		}
		if err := l.Record(ctx, ds); err != nil {
			t.Fatal(err)
		}
		at := time.Date(2026, 7, 1, 9, 0, 0, 0, time.UTC)
		e := suppression.Erasure{OptOuts: suppression.NewOptOuts(st, testKey), Ledger: l, By: "dpo@us.test",
			Now: func() time.Time { return at }}
		done, err := e.Erase(ctx, "Jane+news@ACME.fr")
		if err != nil {
			t.Fatal(err)
		}
		if done.Ledger != (ledger.Erased{Anonymised: 2, Deleted: 1}) {
			t.Errorf("ledger erased %+v, want 2 anonymised, 1 deleted", done.Ledger)
		}
		if p, err := l.Query(ctx, ledger.Query{Digest: &jane}); err != nil || len(p.Decisions) != 0 {
			t.Errorf("the person's records after the erasure: %d, %v; want none found by the digest", len(p.Decisions), err)
		}
		if p, err := l.Query(ctx, ledger.Query{Digest: &john}); err != nil || len(p.Decisions) != 3 {
			t.Errorf("another person's records after the erasure: %d, %v; want 3", len(p.Decisions), err)
		}
		evs, err := l.Audits(ctx, ledger.AuditQuery{Action: ledger.ActErase})
		if err != nil || len(evs) != 1 {
			t.Fatalf("erase events: %+v, %v; want one", evs, err)
		}
		ev := evs[0]
		if ev.Actor != "dpo@us.test" || !ev.At.Equal(at) || ev.Digest != nil ||
			ev.Details["decisions_anonymised"] != "2" || ev.Details["refusals_deleted"] != "1" {
			t.Errorf("erase event %+v: want by dpo@us.test at %v, the counts, no digest", ev, at)
		}
	})
}
