package ledger

import (
	"testing"
	"time"
)

func TestDayOf(t *testing.T) {
	for _, c := range []struct {
		at   time.Time
		want Day
	}{
		{time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC), 0},
		{time.Date(1970, 1, 1, 23, 59, 59, 999, time.UTC), 0},
		{time.Date(1969, 12, 31, 23, 59, 59, 0, time.UTC), -1},
		{time.Date(2026, 6, 15, 0, 0, 0, 0, time.FixedZone("CEST", 2*3600)), DayOf(time.Date(2026, 6, 14, 22, 0, 0, 0, time.UTC))},
	} {
		if got := DayOf(c.at); got != c.want {
			t.Errorf("DayOf(%s) = %d, want %d", c.at, got, c.want)
		}
		if d := DayOf(c.at); d.Time().After(c.at) || !(d + 1).Time().After(c.at) {
			t.Errorf("%s is not inside its day %s", c.at, d.Time())
		}
	}
}

func TestBuildTrends(t *testing.T) {
	q := TrendQuery{From: 100, To: 102}
	rows := []DayCount{
		{Day: 99, Rep: "a", Verdict: Refused, Reason: "opt-out", N: 50}, // outside
		{Day: 100, Rep: "a", Verdict: Allowed, Reason: "allowed", N: 7},
		{Day: 100, Rep: "a", Verdict: Refused, Reason: "opt-out", N: 2},
		{Day: 100, Rep: "b", Verdict: Refused, Reason: "list:x", N: 3},
		{Day: 102, Rep: "b", Verdict: TempFail, Reason: "store-error", N: 1},
		{Day: 102, Rep: "b", Verdict: Refused, Reason: "opt-out", N: 2},
	}
	tr := BuildTrends(q, Aggregate(rows[1:]))
	if len(tr.Days) != 3 || tr.Days[0].Sent != 7 || tr.Days[0].Refused != 5 || tr.Days[1].Refused != 0 || tr.Days[2].TempFail != 1 {
		t.Fatalf("days %+v", tr.Days)
	}
	if r := tr.Days[0].Reasons; len(r) != 2 || r[0] != (ReasonCount{"list:x", 3}) {
		t.Errorf("day 100 reasons %+v, want list:x first", r)
	}
	if r := tr.Reasons; len(r) != 3 || r[0] != (ReasonCount{"opt-out", 4}) {
		t.Errorf("reasons %+v, want opt-out first with 4", r)
	}
	if len(tr.Reps) != 2 || tr.Reps[0].Rep != "b" || tr.Reps[0].Refused != 5 || tr.Reps[0].TempFail != 1 || tr.Reps[1].Sent != 7 {
		t.Errorf("reps %+v, want b (most refused) first", tr.Reps)
	}
	if one := BuildTrends(TrendQuery{From: 100, To: 102, Rep: "a"}, Aggregate(rows[1:3])); len(one.Reps) != 1 || one.Days[0].Refused != 2 {
		t.Errorf("rep a's trends %+v", one)
	}
}
