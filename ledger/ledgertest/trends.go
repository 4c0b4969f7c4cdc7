package ledgertest

import (
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/dncgate/dncgate/ledger"
)

// RunTrends is the contract of the per-day rollup behind the trends.
func RunTrends(t *testing.T, open Opener) {
	for _, c := range []struct {
		name string
		f    func(*testing.T, Opener)
	}{
		{"Trends", testTrends},
		{"TrendsReplayCountsOnce", testTrendsReplay},
		{"TrendsAfterRetention", testTrendsRetention},
		{"TrendsAfterErase", testTrendsErase},
		{"TrendsRange", testTrendsRange},
	} {
		t.Run(c.name, func(t *testing.T) { c.f(t, open) })
	}
}

// TrendCorpus is decisions from three reps over ten days, one day empty,
// with three reasons, and a rep name that needs quoting anywhere.
func TrendCorpus() []ledger.Decision {
	reps := []string{"alice@corp.example", "bob@corp.example", `<script>"x"@corp.example`}
	reasons := []ledger.Reason{"list:be-dncm", "opt-out", "policy:consent-required"}
	var ds []ledger.Decision
	for i := range 120 {
		day := i % 10
		if day == 4 {
			continue // a day without records
		}
		v := []ledger.Verdict{ledger.Allowed, ledger.Allowed, ledger.Refused, ledger.TempFail}[i%4]
		d := Decision(fmt.Sprintf("T%03d", i), i, -time.Duration(day)*24*time.Hour+time.Duration(i)*time.Minute, v)
		d.Rep = reps[i%3]
		if v != ledger.Allowed {
			d.Reason = reasons[i%len(reasons)]
		}
		ds = append(ds, d)
	}
	return ds
}

// rollupOf is the rollup the records ds imply.
func rollupOf(ds []ledger.Decision) []ledger.DayCount {
	r := ledger.Rollup{}
	for _, d := range ds {
		r.Add(d)
	}
	return r.Rows()
}

// everything is a range holding every record of the suite.
var everything = ledger.TrendQuery{From: ledger.DayOf(Base) - ledger.MaxTrendDays + 2, To: ledger.DayOf(Base) + 1}

// CheckRollup fails t unless l's rollup holds exactly the counts of the
// records l holds: what a rebuild from the records would give.
func CheckRollup(t *testing.T, l ledger.Ledger) {
	t.Helper()
	got, err := l.DailyCounts(ctx(t), everything)
	if err != nil {
		t.Fatal(err)
	}
	want := rollupOf(queryAll(t, l, ledger.Query{Limit: ledger.MaxLimit}))
	r := ledger.Rollup{}
	for _, c := range got {
		if c.N <= 0 {
			t.Errorf("rollup row %+v: count not positive", c)
		}
		r[c.Key()] += c.N
	}
	if g := r.Rows(); !reflect.DeepEqual(g, want) && !(len(g) == 0 && len(want) == 0) {
		t.Errorf("rollup does not match the records:\n got %v\nwant %v", g, want)
	}
}

func testTrends(t *testing.T, open Opener) {
	l := open(t, DefaultRetention)
	ds := record(t, l, TrendCorpus()...)
	CheckRollup(t, l)
	q := ledger.LastDays(Base, 12)
	got, err := ledger.ReadTrends(ctx(t), l, q)
	if err != nil {
		t.Fatal(err)
	}
	want := ledger.BuildTrends(q, ledger.Aggregate(rollupOf(ds)))
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("trends:\n got %+v\nwant %+v", got, want)
	}
	if len(got.Days) != 12 || got.Days[11].Day != ledger.DayOf(Base) {
		t.Fatalf("days %v: want 12 ending with Base's day", got.Days)
	}
	if empty := got.Days[11-4]; empty.Sent != 0 || empty.Refused != 0 || len(empty.Reasons) != 0 {
		t.Errorf("the day without records reads %+v", empty)
	}
	var sent, refused int64
	for _, d := range ds {
		switch d.Verdict {
		case ledger.Allowed:
			sent++
		case ledger.Refused:
			refused++
		}
	}
	var gs, gr int64
	for _, r := range got.Reps {
		gs, gr = gs+r.Sent, gr+r.Refused
	}
	if gs != sent || gr != refused {
		t.Errorf("per-rep table sums to %d sent, %d refused; the records hold %d, %d", gs, gr, sent, refused)
	}
	// One rep sees only their own.
	q.Rep = "bob@corp.example"
	mine, err := ledger.ReadTrends(ctx(t), l, q)
	if err != nil {
		t.Fatal(err)
	}
	if len(mine.Reps) != 1 || mine.Reps[0].Rep != q.Rep {
		t.Errorf("trends for one rep show %+v", mine.Reps)
	}
	var own []ledger.Decision
	for _, d := range ds {
		if d.Rep == q.Rep {
			own = append(own, d)
		}
	}
	if w := ledger.BuildTrends(q, ledger.Aggregate(rollupOf(own))); !reflect.DeepEqual(mine, w) {
		t.Errorf("one rep's trends:\n got %+v\nwant %+v", mine, w)
	}
}

func testTrendsReplay(t *testing.T, open Opener) {
	l := open(t, DefaultRetention)
	ds := record(t, l, TrendCorpus()...)
	record(t, l, ds...) // a spool replay: same ids
	record(t, l, ds[:7]...)
	CheckRollup(t, l)
}

func testTrendsRetention(t *testing.T, open Opener) {
	day := 24 * time.Hour
	l := open(t, ledger.Retention{Sent: 40 * day, Refused: 20 * day, Audit: 400 * day})
	var ds []ledger.Decision
	for i := range 200 {
		v := []ledger.Verdict{ledger.Allowed, ledger.Refused}[i%2]
		ds = append(ds, Decision(fmt.Sprintf("X%03d", i), i, -time.Duration(i)*7*time.Hour, v))
	}
	record(t, l, ds...)
	if _, err := l.Expire(ctx(t), Base); err != nil {
		t.Fatal(err)
	}
	CheckRollup(t, l)
	// An hour later the cutoffs move inside a day already cut.
	if _, err := l.Expire(ctx(t), Base.Add(5*time.Hour)); err != nil {
		t.Fatal(err)
	}
	CheckRollup(t, l)
	rows, err := l.DailyCounts(ctx(t), everything)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if r.Verdict != ledger.Allowed && r.Day < ledger.DayOf(Base.Add(5*time.Hour-20*day)) {
			t.Errorf("a refusal day past retention remains in the rollup: %+v", r)
		}
	}
}

func testTrendsErase(t *testing.T, open Opener) {
	l := open(t, DefaultRetention)
	record(t, l, TrendCorpus()...)
	// Recipient 2 has refusals (i%4 == 2) on several days.
	if _, err := l.Erase(ctx(t), Digest(2)); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Erase(ctx(t), Digest(6)); err != nil {
		t.Fatal(err)
	}
	CheckRollup(t, l)
}

func testTrendsRange(t *testing.T, open Opener) {
	l := open(t, DefaultRetention)
	to := ledger.DayOf(Base)
	for _, q := range []ledger.TrendQuery{{From: to, To: to - 1}, {From: to - ledger.MaxTrendDays, To: to}} {
		if _, err := ledger.ReadTrends(ctx(t), l, q); err == nil {
			t.Errorf("ReadTrends(%+v) accepted", q)
		}
	}
	// An empty ledger: every day, all zeros.
	tr, err := ledger.ReadTrends(ctx(t), l, ledger.LastDays(Base, 30))
	if err != nil || len(tr.Days) != 30 || len(tr.Reps) != 0 || len(tr.Reasons) != 0 {
		t.Errorf("empty ledger's trends: %+v, %v", tr, err)
	}
}
