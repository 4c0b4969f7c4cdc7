package console

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/dncgate/dncgate/console/chart"
	"github.com/dncgate/dncgate/ledger"
	"github.com/dncgate/dncgate/store"
)

// TrendsPath is the trends page.
const TrendsPath = Prefix + "trends"

// trendReasons is how many reasons the refusals chart names; the others
// are summed as one.
const trendReasons = 6

// trendsTimeout bounds the page's ledger read.
const trendsTimeout = 10 * time.Second

// trendsData is what the trends page shows.
type trendsData struct {
	From, To, Rep string
	RepLocked     bool
	Problems      []string
	LedgerOff     bool
	Refusals      chart.Chart
	Sends         chart.Chart
	Reps          []repRow
	Totals        ledger.RepTotals
}

// repRow is one line of the per-rep table.
type repRow struct {
	ledger.RepTotals
	TopReasons string
}

// trendsQuery reads the range and the rep of the form: 30 days to today
// by default; a rep sees only themselves, whatever the form says.
func (c *Console) trendsQuery(rq *Request, v url.Values) (ledger.TrendQuery, []string) {
	q := ledger.LastDays(c.o.Now(), ledger.DefaultTrendDays)
	var problems []string
	day := func(field, s string, d *ledger.Day) {
		if s = strings.TrimSpace(s); s == "" {
			return
		}
		t, err := time.Parse(dateLayout, s)
		if err != nil {
			problems = append(problems, rq.T("log.baddate", rq.T(field), s))
			return
		}
		*d = ledger.DayOf(t)
	}
	from, to := v.Get("from"), v.Get("to")
	day("log.to", to, &q.To)
	if to != "" && from == "" {
		q.From = q.To - ledger.DefaultTrendDays + 1
	}
	day("log.from", from, &q.From)
	if len(problems) == 0 {
		if err := q.Check(); err != nil {
			problems = append(problems, rq.T("trends.badrange", ledger.MaxTrendDays))
		}
	}
	q.Rep = strings.ToLower(strings.TrimSpace(v.Get("rep")))
	if !Allows(rq.User.Role, store.RoleManager) {
		q.Rep = rq.User.Email
	}
	return q, problems
}

func (c *Console) trendsPage(rq *Request) {
	q, problems := c.trendsQuery(rq, rq.R.URL.Query())
	data := trendsData{From: q.From.Time().Format(dateLayout), To: q.To.Time().Format(dateLayout), Rep: q.Rep,
		RepLocked: !Allows(rq.User.Role, store.RoleManager), Problems: problems}
	if c.o.Ledger == nil {
		data.LedgerOff = true
		rq.Render(data)
		return
	}
	if len(problems) > 0 {
		rq.RenderStatus(http.StatusBadRequest, data)
		return
	}
	ctx, cancel := context.WithTimeout(rq.R.Context(), trendsTimeout)
	defer cancel()
	tr, err := ledger.ReadTrends(ctx, c.o.Ledger, q)
	if err != nil {
		c.o.Log.Error("console: trends", "err", err)
		rq.Fail(http.StatusServiceUnavailable, "trends.unavailable")
		return
	}
	data.Refusals, data.Sends = trendCharts(rq, tr)
	for _, r := range tr.Reps {
		data.Reps = append(data.Reps, repRow{RepTotals: r, TopReasons: reasonList(r.Top)})
		data.Totals.Sent += r.Sent
		data.Totals.Refused += r.Refused
		data.Totals.TempFail += r.TempFail
	}
	rq.Render(data)
}

// trendCharts draws the refusals per day, stacked by reason (the most
// frequent over the range, the rest as one), and the sends per day.
func trendCharts(rq *Request, tr ledger.Trends) (refusals, sends chart.Chart) {
	named := map[ledger.Reason]int{}
	var cats []string
	for i, r := range tr.Reasons {
		if i == trendReasons && len(tr.Reasons) > trendReasons+1 {
			cats = append(cats, rq.T("trends.other"))
			break
		}
		named[r.Reason] = i
		cats = append(cats, string(r.Reason))
	}
	refusals = chart.Chart{ID: "refusals", Title: rq.T("trends.refusals"), Desc: rq.T("trends.refusalsdesc", label(tr.Query.From), label(tr.Query.To)),
		Categories: cats, LabelHeader: rq.T("trends.day"), TotalHeader: rq.T("trends.total"), Empty: rq.T("trends.norefusal")}
	sends = chart.Chart{ID: "sends", Title: rq.T("trends.sends"), Desc: rq.T("trends.sendsdesc", label(tr.Query.From), label(tr.Query.To)),
		Categories: []string{rq.T("trends.sent")}, LabelHeader: rq.T("trends.day"), TotalHeader: rq.T("trends.total"), Empty: rq.T("trends.nosend")}
	for _, d := range tr.Days {
		vs := make([]int64, len(cats))
		for _, r := range d.Reasons {
			i, ok := named[r.Reason]
			if !ok {
				i = len(cats) - 1 // "other"
			}
			vs[i] += r.N
		}
		tick := d.Day.Time().Format("01-02")
		refusals.Bars = append(refusals.Bars, chart.Bar{Label: label(d.Day), Tick: tick, Values: vs})
		sends.Bars = append(sends.Bars, chart.Bar{Label: label(d.Day), Tick: tick, Values: []int64{d.Sent}})
	}
	return refusals, sends
}

// label writes a day as the charts and the form do.
func label(d ledger.Day) string { return d.Time().Format(dateLayout) }

// reasonList writes a rep's top reasons: "opt-out (3), list:be-dncm (1)".
func reasonList(rs []ledger.ReasonCount) string {
	parts := make([]string, 0, len(rs))
	for _, r := range rs {
		parts = append(parts, string(r.Reason)+" ("+strconv.FormatInt(r.N, 10)+")")
	}
	return strings.Join(parts, ", ")
}
