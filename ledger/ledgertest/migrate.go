package ledgertest

import (
	"strings"
	"testing"
	"time"

	"github.com/dncgate/dncgate/ledger"
)

// OldColumns are the decision columns of the first layout, before the
// rarely filtered fields were packed into one: a backend's migration test
// writes rows this way and opens the ledger on them.
const OldColumns = "id, at, ref, rep, sender, rcpt_masked, rcpt_digest, domain, country, country_from, " +
	"rcpt_type, rule, verdict, reason, match_list, match_version, match_key, lists, cap, " +
	"listener, client, subject, outcome, reply, outcome_at"

// OldPlaceholders is "?, ?, …" for a row of OldColumns.
var OldPlaceholders = strings.TrimSuffix(strings.Repeat("?, ", strings.Count(OldColumns, ",")+1), ", ")

// OldArgs are d's values for OldColumns, times made by tv, the lists as
// the first layout wrote them.
func OldArgs(d ledger.Decision, tv func(time.Time) any) []any {
	var outAt any
	if !d.Outcome.At.IsZero() {
		outAt = tv(d.Outcome.At)
	}
	var lists []string
	for _, l := range d.Lists {
		lists = append(lists, l.List+"\x1f"+l.Version)
	}
	return []any{d.ID, tv(d.At), d.Ref, d.Rep, d.Sender, d.RcptMasked, d.RcptDigest[:], d.Domain,
		d.Country, d.CountryFrom, d.RcptType, d.Rule, string(d.Verdict), string(d.Reason),
		d.Match.List, d.Match.Version, d.Match.KeyKind, strings.Join(lists, "\x1e"), d.Cap,
		d.Listener, d.Client, d.Subject, string(d.Outcome.Kind), d.Outcome.Reply, outAt}
}

// OldCorpus is what a migration test writes in the first layout: more
// rows than one read of the migration takes, over two months, with every
// field set on some. They span Base ± 72 days.
func OldCorpus() []ledger.Decision {
	var ds []ledger.Decision
	for i := range 5200 {
		v := ledger.Allowed
		if i%4 == 3 {
			v = ledger.Refused
		}
		d := Decision("MIG"+strings.Repeat("x", i%3), i, time.Duration(i-2600)*40*time.Minute, v)
		d.ID = ledger.NewID()
		d.Subject = "Hello é"
		d.Outcome = ledger.Outcome{Kind: ledger.Sent, Reply: "250 ok", At: d.At.Add(time.Second)}
		if i%7 == 0 {
			d.Lists, d.Outcome = nil, ledger.Outcome{Kind: ledger.Unknown}
		}
		ds = append(ds, d)
	}
	ledger.Fill(ds)
	return ds
}

// CheckMigrated reads every decision of want back from l, opened on the
// rows OldArgs wrote, and checks them field by field; then that l still
// records and erases.
func CheckMigrated(t *testing.T, l ledger.Ledger, want []ledger.Decision) {
	t.Helper()
	got := queryAll(t, l, ledger.Query{Limit: ledger.MaxLimit})
	if len(got) != len(want) {
		t.Fatalf("after the migration the ledger holds %d decisions, want %d", len(got), len(want))
	}
	byID := map[string]ledger.Decision{}
	for _, d := range want {
		byID[d.ID] = d
	}
	for _, g := range got {
		if w, ok := byID[g.ID]; !ok || !Equal(g, w) {
			t.Fatalf("after the migration:\n got %+v\nwant %+v", g, w)
		}
	}
	d := record(t, l, Decision("AFTER", 1, 0, ledger.Allowed))[0]
	if err := l.SetOutcome(ctx(t), "AFTER", d.RcptDigest, ledger.Outcome{Kind: ledger.Sent, At: d.At}); err != nil {
		t.Fatalf("SetOutcome after the migration: %v", err)
	}
	if _, err := l.Erase(ctx(t), Digest(3)); err != nil {
		t.Fatalf("Erase after the migration: %v", err)
	}
}
