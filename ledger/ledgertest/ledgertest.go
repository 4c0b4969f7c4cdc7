// Package ledgertest is the contract every ledger backend passes: the
// same behaviour on SQLite and on PostgreSQL.
package ledgertest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/dncgate/dncgate/ledger"
)

// Opener returns a fresh, empty ledger with the given retention.
type Opener func(t *testing.T, ret ledger.Retention) ledger.Ledger

// Base is the suite's clock: every record is placed relative to it.
var Base = time.Date(2026, 6, 15, 12, 0, 0, 0, time.UTC)

// DefaultRetention is long enough that nothing in the suite expires.
var DefaultRetention = ledger.Retention{Sent: 10 * 365 * 24 * time.Hour, Refused: 10 * 365 * 24 * time.Hour, Audit: 10 * 365 * 24 * time.Hour}

// Run runs the whole contract.
func Run(t *testing.T, open Opener) {
	for _, c := range []struct {
		name string
		f    func(*testing.T, Opener)
	}{
		{"RecordAndOutcome", testRecordAndOutcome},
		{"ReplayIsIdempotent", testIdempotent},
		{"Filters", testFilters},
		{"Pagination", testPagination},
		{"Erase", testErase},
		{"Retention", testRetention},
		{"Audit", testAudit},
		{"ConcurrentRecord", testConcurrent},
	} {
		t.Run(c.name, func(t *testing.T) { c.f(t, open) })
	}
}

// Digest is a recipient's digest for the suite: n in its first bytes.
func Digest(n int) ledger.Digest {
	var d ledger.Digest
	copy(d[:], fmt.Sprintf("rcpt-%08d", n))
	return d
}

// Decision builds a decision at Base+offset.
func Decision(ref string, rcpt int, offset time.Duration, v ledger.Verdict) ledger.Decision {
	d := ledger.Decision{
		At: Base.Add(offset), Ref: ref, Rep: "alice@corp.example", Sender: "alice@corp.example",
		RcptMasked: fmt.Sprintf("r***@d%d.example", rcpt%3), RcptDigest: Digest(rcpt),
		Domain: fmt.Sprintf("d%d.example", rcpt%3), Country: "FR", CountryFrom: "tld", RcptType: "business",
		Rule: "FR business", Verdict: v, Reason: "allowed", Cap: "rep-daily 1/50",
		Lists:    []ledger.ListVersion{{List: "optout", Version: "v1"}, {List: "be-dncm", Version: "v7"}},
		Listener: "submission", Client: "192.0.2.7:50000",
	}
	if v != ledger.Allowed {
		d.Reason = "list:be-dncm"
		d.Match = ledger.Match{List: "be-dncm", Version: "v7", KeyKind: "phone"}
	}
	return d
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return c
}

func record(t *testing.T, l ledger.Ledger, ds ...ledger.Decision) []ledger.Decision {
	t.Helper()
	if err := l.Record(ctx(t), ds); err != nil {
		t.Fatalf("Record: %v", err)
	}
	return ds
}

func testRecordAndOutcome(t *testing.T, open Opener) {
	l := open(t, DefaultRetention)
	c := ctx(t)
	ds := record(t, l, Decision("REF1", 1, 0, ledger.Allowed), Decision("REF1", 2, time.Millisecond, ledger.Refused),
		Decision("REF1", 3, 2*time.Millisecond, ledger.Allowed), Decision("OTHER", 1, time.Second, ledger.Allowed))
	out := ledger.Outcome{Kind: ledger.Sent, Reply: "250 2.0.0 queued as X1", At: Base.Add(time.Second)}
	if err := l.SetOutcome(c, "REF1", Digest(1), out); err != nil {
		t.Fatal(err)
	}
	if err := l.SetOutcome(c, "REF1", Digest(2), ledger.Outcome{Kind: ledger.LeftOut, At: Base.Add(time.Second)}); err != nil {
		t.Fatal(err)
	}
	// Recipient 3 "crashed" between its record and its outcome.
	if err := l.SetOutcome(c, "NOPE", Digest(1), out); !errors.Is(err, ledger.ErrNotFound) {
		t.Errorf("SetOutcome of an unknown ref = %v, want ErrNotFound", err)
	}
	got, err := l.Transaction(c, "REF1")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 {
		t.Fatalf("Transaction(REF1) has %d decisions, want 3: %+v", len(got), got)
	}
	want := ds[:3]
	want[0].Outcome = out
	want[1].Outcome = ledger.Outcome{Kind: ledger.LeftOut, At: Base.Add(time.Second)}
	want[2].Outcome = ledger.Outcome{Kind: ledger.Unknown}
	for i := range want {
		if !Equal(got[i], want[i]) {
			t.Errorf("decision %d:\n got %+v\nwant %+v", i, got[i], want[i])
		}
	}
	if got[2].Outcome.Kind != ledger.Unknown {
		t.Errorf("a record without outcome reads %q, want unknown", got[2].Outcome.Kind)
	}
}

// Equal compares decisions field by field (times by instant).
func Equal(a, b ledger.Decision) bool {
	if !a.At.Equal(b.At) || !a.Outcome.At.Equal(b.Outcome.At) || !slices.Equal(a.Lists, b.Lists) {
		return false
	}
	a.At, b.At, a.Outcome.At, b.Outcome.At, a.Lists, b.Lists = time.Time{}, time.Time{}, time.Time{}, time.Time{}, nil, nil
	return fmt.Sprintf("%+v", a) == fmt.Sprintf("%+v", b)
}

func testIdempotent(t *testing.T, open Opener) {
	l := open(t, DefaultRetention)
	ds := record(t, l, Decision("R", 1, 0, ledger.Allowed), Decision("R", 2, 0, ledger.Allowed))
	record(t, l, ds...) // a replay with the same ids
	got, err := l.Transaction(ctx(t), "R")
	if err != nil || len(got) != 2 {
		t.Fatalf("after a replay Transaction = %d decisions, %v; want 2", len(got), err)
	}
}

// corpus is a set of decisions across three months, reps, verdicts,
// domains and lists, with ties in time.
func corpus() []ledger.Decision {
	var ds []ledger.Decision
	reps := []string{"alice@corp.example", "bob@corp.example", "carol@corp.example"}
	for i := range 90 {
		v := []ledger.Verdict{ledger.Allowed, ledger.Refused, ledger.TempFail}[i%3]
		// Spread over about 75 days before Base; every fifth shares its
		// predecessor's instant.
		off := -time.Duration(i/5*5) * 20 * time.Hour
		d := Decision(fmt.Sprintf("REF%02d", i/4), i%17, off, v)
		d.Rep = reps[i%len(reps)]
		if v == ledger.Refused && i%2 == 0 {
			d.Reason, d.Match = "opt-out", ledger.Match{List: "optout", Version: "v1", KeyKind: "email"}
		}
		ds = append(ds, d)
	}
	return ds
}

// newestFirst sorts as the ledger pages: time, then id, descending.
func newestFirst(ds []ledger.Decision) {
	sort.Slice(ds, func(i, j int) bool {
		if !ds[i].At.Equal(ds[j].At) {
			return ds[i].At.After(ds[j].At)
		}
		return ds[i].ID > ds[j].ID
	})
}

func testFilters(t *testing.T, open Opener) {
	l := open(t, DefaultRetention)
	all := record(t, l, corpus()...)
	newestFirst(all)
	d5 := Digest(5)
	cases := []struct {
		name string
		q    ledger.Query
		keep func(ledger.Decision) bool
	}{
		{"all", ledger.Query{}, func(ledger.Decision) bool { return true }},
		{"since", ledger.Query{Since: Base.Add(-30 * 24 * time.Hour)}, func(d ledger.Decision) bool { return !d.At.Before(Base.Add(-30 * 24 * time.Hour)) }},
		{"until", ledger.Query{Until: Base.Add(-40 * 24 * time.Hour)}, func(d ledger.Decision) bool { return d.At.Before(Base.Add(-40 * 24 * time.Hour)) }},
		{"rep", ledger.Query{Rep: "bob@corp.example"}, func(d ledger.Decision) bool { return d.Rep == "bob@corp.example" }},
		{"verdict", ledger.Query{Verdict: ledger.TempFail}, func(d ledger.Decision) bool { return d.Verdict == ledger.TempFail }},
		{"reason", ledger.Query{Reason: "opt-out"}, func(d ledger.Decision) bool { return d.Reason == "opt-out" }},
		{"list", ledger.Query{List: "be-dncm"}, func(d ledger.Decision) bool { return d.Match.List == "be-dncm" }},
		{"domain", ledger.Query{Domain: "d1.example"}, func(d ledger.Decision) bool { return d.Domain == "d1.example" }},
		{"address", ledger.Query{Digest: &d5}, func(d ledger.Decision) bool { return d.RcptDigest == d5 }},
		{"rep+day", ledger.Query{Rep: "alice@corp.example", Since: Base.Add(-21 * 24 * time.Hour), Until: Base.Add(-19 * 24 * time.Hour)},
			func(d ledger.Decision) bool {
				return d.Rep == "alice@corp.example" && !d.At.Before(Base.Add(-21*24*time.Hour)) && d.At.Before(Base.Add(-19*24*time.Hour))
			}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var want []ledger.Decision
			for _, d := range all {
				if c.keep(d) {
					want = append(want, d)
				}
			}
			if len(want) == 0 {
				t.Fatal("the case selects nothing; it would prove nothing")
			}
			c.q.Limit = ledger.MaxLimit
			got := queryAll(t, l, c.q)
			sameIDs(t, got, want)
		})
	}
}

func queryAll(t *testing.T, l ledger.Ledger, q ledger.Query) []ledger.Decision {
	t.Helper()
	var out []ledger.Decision
	for range 1000 {
		p, err := l.Query(ctx(t), q)
		if err != nil {
			t.Fatalf("Query: %v", err)
		}
		if len(p.Decisions) > q.Limit {
			t.Fatalf("page of %d, limit %d", len(p.Decisions), q.Limit)
		}
		out = append(out, p.Decisions...)
		if p.Next == "" {
			return out
		}
		q.Cursor = p.Next
	}
	t.Fatal("pagination does not end")
	return nil
}

func sameIDs(t *testing.T, got, want []ledger.Decision) {
	t.Helper()
	ids := func(ds []ledger.Decision) []string {
		out := make([]string, len(ds))
		for i, d := range ds {
			out[i] = d.ID
		}
		return out
	}
	if g, w := ids(got), ids(want); !slices.Equal(g, w) {
		t.Errorf("got %d decisions, want %d, in order newest first\n got %v\nwant %v", len(g), len(w), g, w)
	}
}

func testPagination(t *testing.T, open Opener) {
	l := open(t, DefaultRetention)
	all := record(t, l, corpus()...)
	newestFirst(all)
	for _, limit := range []int{1, 7, 30, 89, 90, 91} {
		got := queryAll(t, l, ledger.Query{Limit: limit})
		sameIDs(t, got, all)
	}
	// A cursor holds across records made newer than it.
	p, err := l.Query(ctx(t), ledger.Query{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	record(t, l, Decision("LATE", 99, time.Hour, ledger.Allowed))
	rest := queryAll(t, l, ledger.Query{Limit: 10, Cursor: p.Next})
	sameIDs(t, append(p.Decisions, rest...), all)
	if _, err := l.Query(ctx(t), ledger.Query{Cursor: "not a cursor"}); err == nil {
		t.Error("a malformed cursor was accepted")
	}
	// Page after page within a range (the cursor then bounds the scan, not
	// the range's end); a cursor from past the range's end still stops at
	// the end.
	since, until := all[60].At, all[20].At
	var in []ledger.Decision
	for _, d := range all {
		if !d.At.Before(since) && d.At.Before(until) {
			in = append(in, d)
		}
	}
	for _, limit := range []int{1, 7, 40} {
		sameIDs(t, queryAll(t, l, ledger.Query{Since: since, Until: until, Limit: limit}), in)
	}
	p, err = l.Query(ctx(t), ledger.Query{Limit: 3})
	if err != nil {
		t.Fatal(err)
	}
	sameIDs(t, queryAll(t, l, ledger.Query{Since: since, Until: until, Limit: 7, Cursor: p.Next}), in)
}

func testErase(t *testing.T, open Opener) {
	l := open(t, DefaultRetention)
	c := ctx(t)
	all := record(t, l, corpus()...)
	d5 := Digest(5)
	var sent, refused, others int
	for _, d := range all {
		switch {
		case d.RcptDigest != d5:
			others++
		case d.Verdict == ledger.Allowed:
			sent++
		default:
			refused++
		}
	}
	er, err := l.Erase(c, d5)
	if err != nil {
		t.Fatal(err)
	}
	if er.Anonymised != int64(sent) || er.Deleted != int64(refused) || sent == 0 || refused == 0 {
		t.Errorf("Erase = %+v, want %d anonymised, %d deleted", er, sent, refused)
	}
	if got := queryAll(t, l, ledger.Query{Digest: &d5, Limit: 100}); len(got) != 0 {
		t.Errorf("after erasure the address still finds %d decisions", len(got))
	}
	rest := queryAll(t, l, ledger.Query{Limit: 1000})
	if len(rest) != others+sent {
		t.Errorf("after erasure %d decisions, want %d", len(rest), others+sent)
	}
	kept := 0
	for _, d := range rest {
		if d.RcptMasked == "(erased)" {
			kept++
			if d.RcptDigest != (ledger.Digest{}) || d.Verdict != ledger.Allowed || len(d.Lists) != 2 {
				t.Errorf("an erased decision keeps %+v", d)
			}
		}
	}
	if kept != sent {
		t.Errorf("%d erased decisions kept as proof, want %d", kept, sent)
	}
}

func testRetention(t *testing.T, open Opener) {
	day := 24 * time.Hour
	ret := ledger.Retention{Sent: 365 * day, Refused: 90 * day, Audit: 730 * day}
	l := open(t, ret)
	c := ctx(t)
	now := Base
	ages := []time.Duration{10 * day, 89 * day, 91 * day, 200 * day, 364 * day, 366 * day, 500 * day, 800 * day}
	var ds []ledger.Decision
	wantLeft := map[ledger.Verdict]int{}
	var wantEx ledger.Expired
	for i, age := range ages {
		for _, v := range []ledger.Verdict{ledger.Allowed, ledger.Refused} {
			ds = append(ds, Decision(fmt.Sprintf("R%d", i), i, -age, v))
			keep := ret.Sent
			if v != ledger.Allowed {
				keep = ret.Refused
			}
			switch {
			case age < keep:
				wantLeft[v]++
			case v == ledger.Allowed:
				wantEx.Sent++
			default:
				wantEx.Refused++
			}
		}
		if err := l.Audit(c, ledger.AuditEvent{At: now.Add(-age), Actor: "admin", Action: ledger.ActCapReset, Object: "rep-daily"}); err != nil {
			t.Fatal(err)
		}
		if age >= ret.Audit {
			wantEx.Audit++
		}
	}
	record(t, l, ds...)
	ex, err := l.Expire(c, now)
	if err != nil {
		t.Fatal(err)
	}
	if ex.Sent != wantEx.Sent || ex.Refused != wantEx.Refused || ex.Audit != wantEx.Audit {
		t.Errorf("Expire = %+v, want %+v", ex, wantEx)
	}
	if ex.Partitions == 0 {
		t.Errorf("Expire dropped no partition; months older than every retention should go whole")
	}
	left := map[ledger.Verdict]int{}
	for _, d := range queryAll(t, l, ledger.Query{Limit: 1000}) {
		left[d.Verdict]++
		if age := now.Sub(d.At); (d.Verdict == ledger.Allowed && age >= ret.Sent) || (d.Verdict != ledger.Allowed && age >= ret.Refused) {
			t.Errorf("a %s decision %s old survived", d.Verdict, age)
		}
	}
	if left[ledger.Allowed] != wantLeft[ledger.Allowed] || left[ledger.Refused] != wantLeft[ledger.Refused] {
		t.Errorf("left %v, want %v", left, wantLeft)
	}
	evs, err := l.Audits(c, ledger.AuditQuery{Limit: 100})
	if err != nil || len(evs) != len(ages)-int(wantEx.Audit) {
		t.Errorf("audit events left: %d (%v), want %d", len(evs), err, len(ages)-int(wantEx.Audit))
	}
	// Expiring again at the same instant finds nothing more.
	if ex, err := l.Expire(c, now); err != nil || ex != (ledger.Expired{}) {
		t.Errorf("second Expire = %+v, %v; want nothing", ex, err)
	}
	// The ledger still takes records in the months it dropped rows from.
	record(t, l, Decision("NEW", 1, 0, ledger.Allowed))
}

func testAudit(t *testing.T, open Opener) {
	l := open(t, DefaultRetention)
	c := ctx(t)
	d1, d2 := Digest(1), Digest(2)
	evs := []ledger.AuditEvent{
		{At: Base.Add(-3 * time.Hour), Actor: "admin", Action: ledger.ActListImport, Object: "be-dncm",
			Details: map[string]string{"sha256": "ab12", "entries": "1000"}},
		{At: Base.Add(-2 * time.Hour), Actor: "recipient", Action: ledger.ActOptOut, Digest: &d1, Source: ledger.SourceOneClick},
		{At: Base.Add(-time.Hour), Actor: "admin", Action: ledger.ActOptOut, Digest: &d2, Source: ledger.SourceCLI, Reason: "asked by phone"},
		{At: Base, Actor: "admin", Action: ledger.ActErase, Reason: "GDPR art. 17 request"},
	}
	for _, e := range evs {
		if err := l.Audit(c, e); err != nil {
			t.Fatal(err)
		}
	}
	got, err := l.Audits(c, ledger.AuditQuery{})
	if err != nil || len(got) != 4 || got[0].Action != ledger.ActErase || got[3].Details["sha256"] != "ab12" {
		t.Fatalf("Audits = %+v, %v; want 4 newest first with details", got, err)
	}
	if got[0].Digest != nil {
		t.Errorf("the erasure carries a digest")
	}
	got, err = l.Audits(c, ledger.AuditQuery{Digest: &d1})
	if err != nil || len(got) != 1 || got[0].Source != ledger.SourceOneClick || !got[0].At.Equal(evs[1].At) || *got[0].Digest != d1 {
		t.Errorf("Audits(digest 1) = %+v, %v", got, err)
	}
	got, err = l.Audits(c, ledger.AuditQuery{Action: ledger.ActOptOut, Since: Base.Add(-90 * time.Minute)})
	if err != nil || len(got) != 1 || got[0].Reason != "asked by phone" {
		t.Errorf("Audits(opt-out, since) = %+v, %v", got, err)
	}
	got, err = l.Audits(c, ledger.AuditQuery{Actor: "admin"})
	if err != nil || len(got) != 3 || got[2].Object != "be-dncm" {
		t.Errorf("Audits(actor admin) = %+v, %v; want the 3 of admin", got, err)
	}
	got, err = l.Audits(c, ledger.AuditQuery{Object: "be-dncm"})
	if err != nil || len(got) != 1 || got[0].Action != ledger.ActListImport {
		t.Errorf("Audits(object be-dncm) = %+v, %v", got, err)
	}
	// Pages of two: the second continues after the first's last event,
	// the third is empty; nothing is seen twice or skipped.
	first, err := l.Audits(c, ledger.AuditQuery{Limit: 2})
	if err != nil || len(first) != 2 {
		t.Fatalf("first page %+v, %v", first, err)
	}
	cur := first[1].Cursor()
	second, err := l.Audits(c, ledger.AuditQuery{Limit: 2, After: &cur})
	if err != nil || len(second) != 2 || second[0].Action != ledger.ActOptOut || second[1].Action != ledger.ActListImport {
		t.Fatalf("second page %+v, %v", second, err)
	}
	cur = second[1].Cursor()
	if third, err := l.Audits(c, ledger.AuditQuery{Limit: 2, After: &cur}); err != nil || len(third) != 0 {
		t.Errorf("third page %+v, %v; want none", third, err)
	}
	// A cursor within a range: the earlier of the cursor and Until bounds
	// the page, and Since still holds.
	cur = first[0].Cursor()
	got, err = l.Audits(c, ledger.AuditQuery{Since: Base.Add(-150 * time.Minute), Until: Base.Add(time.Hour), After: &cur})
	if err != nil || len(got) != 2 || got[0].Reason != "asked by phone" || got[1].Actor != "recipient" {
		t.Errorf("Audits(range, after the erasure) = %+v, %v; want the two opt-outs", got, err)
	}
	got, err = l.Audits(c, ledger.AuditQuery{Until: Base.Add(-90 * time.Minute), After: &cur})
	if err != nil || len(got) != 2 || got[0].Actor != "recipient" || got[1].Action != ledger.ActListImport {
		t.Errorf("Audits(until before the cursor) = %+v, %v; want the one-click opt-out and the import", got, err)
	}
}

func testConcurrent(t *testing.T, open Opener) {
	l := open(t, DefaultRetention)
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for g := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 10 {
				d := Decision(fmt.Sprintf("G%d", g), i, time.Duration(g*10+i)*time.Millisecond, ledger.Allowed)
				if err := l.Record(context.Background(), []ledger.Decision{d}); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if got := queryAll(t, l, ledger.Query{Limit: 1000}); len(got) != 200 {
		t.Errorf("%d decisions after 200 concurrent records", len(got))
	}
}
