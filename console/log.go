package console

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/dncgate/dncgate/ledger"
	"github.com/dncgate/dncgate/ledger/export"
	"github.com/dncgate/dncgate/store"
)

// Ledger is what the log pages read (ledger.Ledger).
type Ledger interface {
	Query(ctx context.Context, q ledger.Query) (ledger.Page, error)
	Transaction(ctx context.Context, ref string) ([]ledger.Decision, error)
	TrendCounts(ctx context.Context, q ledger.TrendQuery) (ledger.TrendCounts, error) // the trends page
	Audits(ctx context.Context, q ledger.AuditQuery) ([]ledger.AuditEvent, error)     // an opt-out's history
	Erase(ctx context.Context, rcpt ledger.Digest) (ledger.Erased, error)             // an erasure
}

// Paths of the log pages.
const (
	ExportPath      = Prefix + "log.csv"
	TransactionPath = Prefix + "tx/"
)

// pageSize is the rows of one page of the log.
const pageSize = 50

// exportTimeout bounds one CSV export.
const exportTimeout = 5 * time.Minute

// dateLayout is how the date filters are written (a day in UTC).
const dateLayout = "2006-01-02"

// Filter is the log's filters as the form gives them.
type Filter struct {
	From, To, Rep, Verdict, Reason, List, Domain, Address, Ref string
}

// logData is what the log page shows.
type logData struct {
	Filter    Filter
	RepLocked bool // a rep sees their own sends only
	Verdicts  []ledger.Verdict
	Decisions []ledger.Decision
	Searched  bool
	Next      string // the next page's URL, "" at the end
	First     string // the first page's URL when not on it
	Export    string // the CSV of the same filters
	Problems  []string
	LedgerOff bool
}

func readFilter(v url.Values) Filter {
	get := func(k string) string { return strings.TrimSpace(v.Get(k)) }
	return Filter{From: get("from"), To: get("to"), Rep: strings.ToLower(get("rep")), Verdict: get("verdict"),
		Reason: get("reason"), List: get("list"), Domain: strings.ToLower(get("domain")), Address: get("address"), Ref: get("ref")}
}

// values are the filters as a query string, for the pager and the export.
func (f Filter) values() url.Values {
	v := url.Values{}
	for k, s := range map[string]string{"from": f.From, "to": f.To, "rep": f.Rep, "verdict": f.Verdict,
		"reason": f.Reason, "list": f.List, "domain": f.Domain, "address": f.Address} {
		if s != "" {
			v.Set(k, s)
		}
	}
	return v
}

// query turns the filters into a ledger query for user: a rep's query
// is always limited to their own sends, whatever the form says. Every
// problem is named, with the field it is in.
func (c *Console) query(rq *Request, f Filter) (ledger.Query, []string) {
	var q ledger.Query
	var problems []string
	q.Since, q.Until, problems = dayRange(rq, f.From, f.To)
	if f.Verdict != "" && !ledger.Verdict(f.Verdict).Valid() {
		problems = append(problems, rq.T("log.badverdict", f.Verdict))
	}
	q.Verdict, q.Reason, q.List, q.Domain, q.Rep = ledger.Verdict(f.Verdict), ledger.Reason(f.Reason), f.List, f.Domain, f.Rep
	if f.Address != "" {
		var problem string
		if q.Digest, problem = c.searchDigest(rq, f.Address); problem != "" {
			problems = append(problems, problem)
		}
	}
	if !Allows(rq.User.Role, store.RoleManager) {
		q.Rep = rq.User.Email
	}
	return q, problems
}

// dayRange reads a form's "from" and "to" days (UTC, both included) as
// the half-open range [since, until); "" leaves that end open. Each
// problem is named with its field.
func dayRange(rq *Request, from, to string) (since, until time.Time, problems []string) {
	day := func(field, s string) time.Time {
		if s == "" {
			return time.Time{}
		}
		t, err := time.Parse(dateLayout, s)
		if err != nil {
			problems = append(problems, rq.T("log.baddate", rq.T(field), s))
		}
		return t
	}
	since = day("log.from", from)
	if t := day("log.to", to); !t.IsZero() {
		until = t.AddDate(0, 0, 1)
	}
	if !until.IsZero() && !until.After(since) {
		problems = append(problems, rq.T("log.badrange"))
	}
	return since, until, problems
}

// searchDigest is the ledger's key for an address searched in full (the
// address is never stored: only its keyed digest is compared), and the
// problem to show when addr is not a whole address.
func (c *Console) searchDigest(rq *Request, addr string) (*ledger.Digest, string) {
	var problem string
	if !strings.Contains(addr, "@") {
		problem = rq.T("log.badaddress")
	}
	d := ledger.RcptDigest(c.o.DigestKey, addr)
	return &d, problem
}

func (c *Console) logPage(rq *Request) {
	v := rq.R.URL.Query()
	f := readFilter(v)
	if f.Ref != "" {
		rq.Redirect(TransactionPath + url.PathEscape(f.Ref))
		return
	}
	data := logData{Filter: f, Verdicts: []ledger.Verdict{ledger.Refused, ledger.TempFail, ledger.Allowed},
		RepLocked: !Allows(rq.User.Role, store.RoleManager)}
	if data.RepLocked {
		data.Filter.Rep = rq.User.Email
	}
	if c.o.Ledger == nil {
		data.LedgerOff = true
		rq.Render(data)
		return
	}
	q, problems := c.query(rq, f)
	if len(problems) > 0 {
		data.Problems = problems
		rq.RenderStatus(http.StatusBadRequest, data)
		return
	}
	q.Limit, q.Cursor = pageSize, v.Get("cursor")
	ctx, cancel := context.WithTimeout(rq.R.Context(), storeTimeout)
	defer cancel()
	p, err := c.o.Ledger.Query(ctx, q)
	if err != nil {
		if _, _, nerr := q.Normalise(); nerr != nil {
			data.Problems = []string{rq.T("log.badcursor")}
			rq.RenderStatus(http.StatusBadRequest, data)
			return
		}
		c.o.Log.Error("console: ledger query", "err", err)
		rq.Fail(http.StatusServiceUnavailable, "error.unavailable")
		return
	}
	data.Decisions, data.Searched = p.Decisions, true
	vals := f.values()
	data.Export = ExportPath + query(vals)
	if p.Next != "" {
		nv := f.values()
		nv.Set("cursor", p.Next)
		data.Next = HomePath + query(nv)
	}
	if q.Cursor != "" {
		data.First = HomePath + query(vals)
	}
	rq.Render(data)
}

func query(v url.Values) string {
	if len(v) == 0 {
		return ""
	}
	return "?" + v.Encode()
}

// exportCSV streams the filtered view as CSV through ledger/export, whose
// cells are neutralised against spreadsheet formulas.
func (c *Console) exportCSV(rq *Request) {
	if c.o.Ledger == nil {
		rq.Fail(http.StatusNotFound, "log.off")
		return
	}
	q, problems := c.query(rq, readFilter(rq.R.URL.Query()))
	if len(problems) > 0 {
		rq.W.Header().Set("Content-Type", "text/plain; charset=utf-8")
		rq.W.WriteHeader(http.StatusBadRequest)
		rq.W.Write([]byte(strings.Join(problems, "\n") + "\n"))
		return
	}
	q.Limit = 1000
	ctx, cancel := context.WithTimeout(rq.R.Context(), exportTimeout)
	defer cancel()
	rq.W.Header().Set("Content-Type", "text/csv; charset=utf-8")
	rq.W.Header().Set("Content-Disposition", `attachment; filename="dncgate-log.csv"`)
	w, err := export.NewCSV(rq.W)
	if err == nil {
		var n int
		n, err = export.Stream(ctx, c.o.Ledger, q, w)
		c.auditDetails(rq, ledger.ActExport, "log", "", map[string]string{"rows": strconv.Itoa(n), "filter": readFilter(rq.R.URL.Query()).values().Encode()})
	}
	if err != nil && !errors.Is(err, context.Canceled) {
		// The status is sent; a cut-off file is all the browser can be told.
		c.o.Log.Error("console: export", "err", err)
	}
}

// txData is what the transaction page shows.
type txData struct {
	Ref       string
	Decisions []ledger.Decision
}

// transaction shows every recipient of a reference, the lists consulted
// and the outcome; a rep sees only the recipients of their own sends,
// and a reference of someone else's is "not found", not "forbidden".
func (c *Console) transaction(rq *Request) {
	ref := rq.R.PathValue("ref")
	if c.o.Ledger == nil {
		rq.Fail(http.StatusNotFound, "log.off")
		return
	}
	ctx, cancel := context.WithTimeout(rq.R.Context(), storeTimeout)
	defer cancel()
	ds, err := c.o.Ledger.Transaction(ctx, ref)
	if err != nil {
		c.o.Log.Error("console: ledger transaction", "err", err)
		rq.Fail(http.StatusServiceUnavailable, "error.unavailable")
		return
	}
	if !Allows(rq.User.Role, store.RoleManager) {
		mine := ds[:0:0]
		for _, d := range ds {
			if d.Rep == rq.User.Email {
				mine = append(mine, d)
			}
		}
		ds = mine
	}
	if len(ds) == 0 {
		rq.Fail(http.StatusNotFound, "tx.notfound")
		return
	}
	rq.Render(txData{Ref: ref, Decisions: ds})
}
