package console

import (
	"context"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/dncgate/dncgate/ledger"
	"github.com/dncgate/dncgate/ledger/export"
)

// Paths of the audit trail pages.
const (
	AuditPath       = Prefix + "audit"
	AuditExportPath = Prefix + "audit.csv"
)

// auditDays is the range the page shows by default: the last 30 days,
// today included.
const auditDays = 30

// auditExportPage is how many events one read of an export fetches.
const auditExportPage = 1000

// AuditFilter is the audit page's filters as the form gives them.
type AuditFilter struct {
	From, To, Action, Actor, Object, Address string
}

// auditData is what the audit page shows.
type auditData struct {
	Filter    AuditFilter
	Actions   []actionOption
	Events    []auditRow
	Searched  bool
	Next      string // the next page's URL, "" at the end
	First     string // the first page's URL when not on it
	Export    string // the CSV of the same filters
	Problems  []string
	LedgerOff bool
}

// actionOption is one entry of the action select.
type actionOption struct {
	Value, Label string
	Selected     bool
}

// auditRow is one event as the table shows it.
type auditRow struct {
	At                                                     time.Time
	Action, Actor, Object, Person, Source, Reason, Details string
}

// readAuditFilter reads the form; the days default to the last
// auditDays ending today (UTC), so a pager link keeps its range.
func readAuditFilter(v url.Values, now time.Time) AuditFilter {
	get := func(k string) string { return strings.TrimSpace(v.Get(k)) }
	f := AuditFilter{From: get("from"), To: get("to"), Action: get("action"), Actor: get("actor"),
		Object: get("object"), Address: get("address")}
	if f.To == "" && f.From == "" {
		f.To = now.UTC().Format(dateLayout)
	}
	if f.From == "" {
		if to, err := time.Parse(dateLayout, f.To); err == nil {
			f.From = to.AddDate(0, 0, 1-auditDays).Format(dateLayout)
		}
	}
	return f
}

// values are the filters as a query string, for the pager and the export.
func (f AuditFilter) values() url.Values {
	v := url.Values{}
	for k, s := range map[string]string{"from": f.From, "to": f.To, "action": f.Action,
		"actor": f.Actor, "object": f.Object, "address": f.Address} {
		if s != "" {
			v.Set(k, s)
		}
	}
	return v
}

// auditQuery turns the filters into an audit query; every problem is
// named, with the field it is in.
func (c *Console) auditQuery(rq *Request, f AuditFilter) (ledger.AuditQuery, []string) {
	q := ledger.AuditQuery{Action: ledger.Action(f.Action), Actor: f.Actor, Object: f.Object}
	var problems []string
	q.Since, q.Until, problems = dayRange(rq, f.From, f.To)
	if q.Action != "" && !q.Action.Valid() {
		problems = append(problems, rq.T("audit.badaction", f.Action))
	}
	if f.Address != "" {
		var problem string
		if q.Digest, problem = c.searchDigest(rq, f.Address); problem != "" {
			problems = append(problems, problem)
		}
	}
	return q, problems
}

// actionOptions are the select's entries, in the order of ledger.Actions.
func actionOptions(rq *Request, selected string) []actionOption {
	out := make([]actionOption, 0, len(ledger.Actions))
	for _, a := range ledger.Actions {
		out = append(out, actionOption{Value: string(a), Label: actionLabel(rq, a), Selected: string(a) == selected})
	}
	return out
}

// actionLabel is an action's readable name; one the trail holds but this
// version does not know shows as recorded.
func actionLabel(rq *Request, a ledger.Action) string {
	if !a.Valid() {
		return string(a)
	}
	return rq.T("action." + string(a))
}

// auditPage shows one page of the audit trail, newest first. It reads one
// event more than it shows, to know whether a next page exists; the next
// page starts after the last shown, on the (time, id) order the ledger
// indexes, so a deep page costs what the first does.
func (c *Console) auditPage(rq *Request) {
	v := rq.R.URL.Query()
	f := readAuditFilter(v, c.o.Now())
	data := auditData{Filter: f, Actions: actionOptions(rq, f.Action)}
	if c.o.Ledger == nil {
		data.LedgerOff = true
		rq.Render(data)
		return
	}
	q, problems := c.auditQuery(rq, f)
	cursor := v.Get("cursor")
	after, err := ledger.ParseCursor(cursor)
	if err != nil {
		problems = append(problems, rq.T("log.badcursor"))
	}
	if len(problems) > 0 {
		data.Problems = problems
		rq.RenderStatus(http.StatusBadRequest, data)
		return
	}
	q.After, q.Limit = after, pageSize+1
	ctx, cancel := context.WithTimeout(rq.R.Context(), storeTimeout)
	defer cancel()
	evs, err := c.o.Ledger.Audits(ctx, q)
	if err != nil {
		c.unavailable(rq, "audit trail", err)
		return
	}
	vals := f.values()
	if len(evs) > pageSize {
		evs = evs[:pageSize]
		nv := f.values()
		nv.Set("cursor", evs[pageSize-1].Cursor().Encode())
		data.Next = AuditPath + query(nv)
	}
	if cursor != "" {
		data.First = AuditPath + query(vals)
	}
	for _, e := range evs {
		data.Events = append(data.Events, auditRowOf(rq, e))
	}
	data.Searched, data.Export = true, AuditExportPath+query(vals)
	rq.Render(data)
}

// auditRowOf is e for the table. The person of an opt-out or an entry is
// only a keyed digest in the trail: it is shown as such, never as an
// address.
func auditRowOf(rq *Request, e ledger.AuditEvent) auditRow {
	r := auditRow{At: e.At, Action: actionLabel(rq, e.Action), Actor: e.Actor, Object: e.Object,
		Source: string(e.Source), Reason: e.Reason, Details: export.Details(e.Details)}
	if e.Digest != nil {
		r.Person = rq.T("audit.person", hex.EncodeToString(e.Digest[:8]))
	}
	return r
}

// auditExport streams the filtered view, every page of it, as CSV
// through ledger/export (cells neutralised against spreadsheet formulas),
// and records the export in the trail.
func (c *Console) auditExport(rq *Request) {
	if c.o.Ledger == nil {
		rq.Fail(http.StatusNotFound, "log.off")
		return
	}
	f := readAuditFilter(rq.R.URL.Query(), c.o.Now())
	q, problems := c.auditQuery(rq, f)
	if len(problems) > 0 {
		rq.W.Header().Set("Content-Type", "text/plain; charset=utf-8")
		rq.W.WriteHeader(http.StatusBadRequest)
		rq.W.Write([]byte(strings.Join(problems, "\n") + "\n"))
		return
	}
	q.Limit = auditExportPage
	ctx, cancel := context.WithTimeout(rq.R.Context(), exportTimeout)
	defer cancel()
	// The first page is read before anything is sent, so a ledger that
	// cannot be read gets an error page, not an empty file.
	evs, err := c.o.Ledger.Audits(ctx, q)
	if err != nil {
		c.unavailable(rq, "audit trail", err)
		return
	}
	rq.W.Header().Set("Content-Type", "text/csv; charset=utf-8")
	rq.W.Header().Set("Content-Disposition", `attachment; filename="dncgate-audit.csv"`)
	n, err := c.streamAudits(ctx, q, evs, rq.W)
	c.auditDetails(rq, ledger.ActExport, "audit", "", map[string]string{"rows": strconv.Itoa(n), "filter": f.values().Encode()})
	if err != nil && !errors.Is(err, context.Canceled) {
		// The status is sent; a cut-off file is all the browser can be told.
		c.o.Log.Error("console: audit export", "err", err)
	}
}

// streamAudits writes evs, the first page of q, then every page after it,
// and returns how many events it wrote.
func (c *Console) streamAudits(ctx context.Context, q ledger.AuditQuery, evs []ledger.AuditEvent, w io.Writer) (int, error) {
	out, err := export.NewAuditCSV(w)
	if err != nil {
		return 0, err
	}
	n := 0
	for {
		if err := out.Write(evs); err != nil {
			return n, err
		}
		n += len(evs)
		if err := out.Flush(); err != nil {
			return n, err
		}
		if len(evs) < q.Limit {
			return n, nil
		}
		cur := evs[len(evs)-1].Cursor()
		q.After = &cur
		if evs, err = c.o.Ledger.Audits(ctx, q); err != nil {
			return n, err
		}
	}
}
