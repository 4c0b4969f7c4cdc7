package ledger

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/dncgate/dncgate/datamap"
)

// The trends rest on a per-day rollup each backend keeps beside the
// records, written in the transaction that writes them: (UTC day, rep,
// verdict, reason) → count. Thirty days of ten million records are read
// as a few thousand rollup rows instead of a scan.

// Day is a UTC day as a number: days since 1970-01-01.
type Day int32

const nanosPerDay = int64(24 * time.Hour)

// DayOf is the UTC day holding t.
func DayOf(t time.Time) Day {
	n := t.UnixNano()
	d := n / nanosPerDay
	if n < 0 && n%nanosPerDay != 0 {
		d--
	}
	return Day(d)
}

// Time is the day's first instant, UTC.
func (d Day) Time() time.Time { return time.Unix(int64(d)*86400, 0).UTC() }

// DayCount is one rollup row.
type DayCount struct {
	Day     Day
	Rep     string
	Verdict Verdict
	Reason  Reason
	N       int64
}

// Key is the row without its count.
func (c DayCount) Key() DayCount { c.N = 0; return c }

// MaxTrendDays bounds one trends query.
const MaxTrendDays = 400

// TrendQuery selects rollup rows: the days [From, To], both included,
// and one rep or all.
type TrendQuery struct {
	From, To Day
	Rep      string // "": every rep
}

// DefaultTrendDays is the range of a trends page without one.
const DefaultTrendDays = 30

// LastDays is the query for the n days ending with now's day.
func LastDays(now time.Time, n int) TrendQuery {
	to := DayOf(now)
	return TrendQuery{From: to - Day(n) + 1, To: to}
}

// Check refuses an empty, reversed or too long range.
func (q TrendQuery) Check() error {
	switch {
	case q.To < q.From:
		return fmt.Errorf("ledger: trends: the range ends (%s) before it starts (%s)", q.To.Time().Format(time.DateOnly), q.From.Time().Format(time.DateOnly))
	case int(q.To-q.From)+1 > MaxTrendDays:
		return fmt.Errorf("ledger: trends: %d days asked, at most %d", int(q.To-q.From)+1, MaxTrendDays)
	}
	return nil
}

// TrendCounts are a range's rollup summed two ways, what the trends
// need: per day over the reps (Rep empty), and per rep over the days
// (Day zero). A few hundred rows, whatever the reps and the records.
type TrendCounts struct {
	Days []DayCount
	Reps []DayCount
}

// Aggregate sums full rollup rows into TrendCounts, in key order.
func Aggregate(rows []DayCount) TrendCounts {
	days, reps := Rollup{}, Rollup{}
	for _, r := range rows {
		days[DayCount{Day: r.Day, Verdict: r.Verdict, Reason: r.Reason}] += r.N
		reps[DayCount{Rep: r.Rep, Verdict: r.Verdict, Reason: r.Reason}] += r.N
	}
	return TrendCounts{Days: days.Rows(), Reps: reps.Rows()}
}

// TrendCounter reads a range's rollup summed (every Ledger does).
type TrendCounter interface {
	TrendCounts(ctx context.Context, q TrendQuery) (TrendCounts, error)
}

// ReadTrends checks q and reads its trends from l's rollup.
func ReadTrends(ctx context.Context, l TrendCounter, q TrendQuery) (Trends, error) {
	if err := q.Check(); err != nil {
		return Trends{}, err
	}
	c, err := l.TrendCounts(ctx, q)
	if err != nil {
		return Trends{}, err
	}
	return BuildTrends(q, c), nil
}

// ReasonCount is a reason with its count.
type ReasonCount struct {
	Reason Reason
	N      int64
}

// DayTotals is one day of a trend.
type DayTotals struct {
	Day      Day
	Sent     int64         // allowed decisions
	Refused  int64         // refusals
	TempFail int64         // temporary failures
	Reasons  []ReasonCount // refusals and temporary failures by reason, most first
}

// RepTotals is one rep's line of the per-rep table.
type RepTotals struct {
	Rep                     string
	Sent, Refused, TempFail int64
	Top                     []ReasonCount // the TopReasons most frequent reasons
}

// TopReasons is how many reasons a rep's line names.
const TopReasons = 3

// Trends is what the trends page shows: every day of the range (days
// without records included, with zeros), the reasons seen over the range,
// most frequent first, and one line per rep, most refused first.
type Trends struct {
	Query   TrendQuery
	Days    []DayTotals
	Reasons []ReasonCount
	Reps    []RepTotals
}

// BuildTrends folds the counts of q into its trends; days outside q
// are ignored.
func BuildTrends(q TrendQuery, c TrendCounts) Trends {
	tr := Trends{Query: q}
	for d := q.From; d <= q.To; d++ {
		tr.Days = append(tr.Days, DayTotals{Day: d})
	}
	dayReasons := make([]map[Reason]int64, len(tr.Days))
	all := map[Reason]int64{}
	for _, r := range c.Days {
		if r.Day < q.From || r.Day > q.To {
			continue
		}
		i := r.Day - q.From
		if !count(&tr.Days[i].Sent, &tr.Days[i].Refused, &tr.Days[i].TempFail, r) {
			continue
		}
		if dayReasons[i] == nil {
			dayReasons[i] = map[Reason]int64{}
		}
		dayReasons[i][r.Reason] += r.N
		all[r.Reason] += r.N
	}
	for i, m := range dayReasons {
		tr.Days[i].Reasons = ranked(m, 0)
	}
	tr.Reasons = ranked(all, 0)
	reps := map[string]*RepTotals{}
	repReasons := map[string]map[Reason]int64{}
	for _, r := range c.Reps {
		rt := reps[r.Rep]
		if rt == nil {
			rt = &RepTotals{Rep: r.Rep}
			reps[r.Rep], repReasons[r.Rep] = rt, map[Reason]int64{}
		}
		if count(&rt.Sent, &rt.Refused, &rt.TempFail, r) {
			repReasons[r.Rep][r.Reason] += r.N
		}
	}
	for rep, rt := range reps {
		rt.Top = ranked(repReasons[rep], TopReasons)
		tr.Reps = append(tr.Reps, *rt)
	}
	slices.SortFunc(tr.Reps, func(a, b RepTotals) int {
		return cmp.Or(cmp.Compare(b.Refused+b.TempFail, a.Refused+a.TempFail), cmp.Compare(b.Sent, a.Sent), cmp.Compare(a.Rep, b.Rep))
	})
	return tr
}

// count adds r to the total of its verdict and reports whether r is a
// refusal or a temporary failure, which have reasons to rank.
func count(sent, refused, tempfail *int64, r DayCount) bool {
	switch r.Verdict {
	case Allowed:
		*sent += r.N
		return false
	case TempFail:
		*tempfail += r.N
	default:
		*refused += r.N
	}
	return true
}

// ranked is m's reasons, most frequent first (ties by name), at most n
// (0: all).
func ranked(m map[Reason]int64, n int) []ReasonCount {
	out := make([]ReasonCount, 0, len(m))
	for r, c := range m {
		out = append(out, ReasonCount{Reason: r, N: c})
	}
	slices.SortFunc(out, func(a, b ReasonCount) int {
		return cmp.Or(cmp.Compare(b.N, a.N), cmp.Compare(a.Reason, b.Reason))
	})
	if n > 0 && len(out) > n {
		out = out[:n]
	}
	return out
}

// Rollup accumulates the rows one write adds to the rollup.
type Rollup map[DayCount]int64

// Add counts d.
func (r Rollup) Add(d Decision) {
	r[DayCount{Day: DayOf(d.At), Rep: d.Rep, Verdict: d.Verdict, Reason: d.Reason}]++
}

// Rows are the accumulated rows in key order: writers that take the rows'
// locks in one order cannot deadlock each other.
func (r Rollup) Rows() []DayCount {
	out := make([]DayCount, 0, len(r))
	for k, n := range r {
		k.N = n
		out = append(out, k)
	}
	slices.SortFunc(out, func(a, b DayCount) int {
		return cmp.Or(cmp.Compare(a.Day, b.Day), cmp.Compare(a.Rep, b.Rep),
			cmp.Compare(a.Verdict, b.Verdict), cmp.Compare(a.Reason, b.Reason))
	})
	return out
}

// RollupEntry declares the per-day rollup for the data map: the reps'
// addresses with counts, no recipient.
func RollupEntry(where string, tables ...string) datamap.Entry {
	return datamap.Entry{Kind: "send ledger: per-day counts", Where: where, Form: datamap.FormPlain,
		What:      "per UTC day, rep (the AUTH identity), verdict and reason, how many recipients were decided; no recipient; what the console's trends read",
		Retention: "with the decisions it counts: the days past ledger.retention.sent or .refused are deleted hourly, an erasure recounts the person's days",
		Readers:   ledgerReaders, Tables: tables}
}
