package console_test

import (
	"encoding/csv"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dncgate/dncgate/console"
	"github.com/dncgate/dncgate/ledger"
)

// refs are the references of the log page's rows, in order.
func refs(body string) []string {
	var out []string
	for _, part := range strings.Split(body, `<a href="/console/tx/`)[1:] {
		out = append(out, part[:strings.IndexByte(part, '"')])
	}
	return out
}

// corpus records a spread of decisions: two reps, verdicts, reasons,
// lists, domains and days.
func corpus(e *env) {
	day := 24 * time.Hour
	a := e.decision("A1", rep, "jean@example.fr", time.Hour)
	b := e.decision("B1", rep2, "marie@orange.fr", 2*time.Hour)
	b.Reason, b.Match = "opt-out", ledger.Match{List: "optout", Version: "v9", KeyKind: "email"}
	c := e.decision("C1", rep, "paul@firma.de", 3*day)
	c.Verdict, c.Reason, c.Match, c.Outcome = ledger.Allowed, "allowed", ledger.Match{}, ledger.Outcome{Kind: ledger.Sent, Reply: "250 ok"}
	d := e.decision("D1", rep2, "anna@firma.de", 10*day)
	d.Verdict, d.Reason, d.Match = ledger.TempFail, "store-error", ledger.Match{}
	e.record(a, b, c, d)
}

func (e *env) day(ago time.Duration) string { return e.clock.Now().Add(-ago).Format("2006-01-02") }

// TestLogFilters: each filter selects what it says, for a manager.
func TestLogFilters(t *testing.T) {
	e := newEnv(t)
	corpus(e)
	b := e.browser()
	b.logIn(mgr)
	day := 24 * time.Hour
	for _, c := range []struct {
		query string
		want  []string
	}{
		{"", []string{"A1", "B1", "C1", "D1"}},
		{"from=" + e.day(day), []string{"A1", "B1"}},
		{"from=" + e.day(5*day) + "&to=" + e.day(2*day), []string{"C1"}},
		{"to=" + e.day(9*day), []string{"D1"}},
		{"rep=" + rep2, []string{"B1", "D1"}},
		{"rep=" + strings.ToUpper(rep2), []string{"B1", "D1"}},
		{"verdict=allowed", []string{"C1"}},
		{"verdict=tempfail", []string{"D1"}},
		{"reason=opt-out", []string{"B1"}},
		{"list=fr-bloctel", []string{"A1"}},
		{"domain=firma.de", []string{"C1", "D1"}},
		{"address=" + url.QueryEscape("Marie@Orange.fr"), []string{"B1"}},
		{"address=" + url.QueryEscape("nobody@orange.fr"), nil},
		{"verdict=refused&domain=orange.fr", []string{"B1"}},
	} {
		a := b.get(console.HomePath + "?" + c.query)
		if a.Status != http.StatusOK {
			t.Errorf("%q: %d", c.query, a.Status)
			continue
		}
		if got := refs(a.Body); !slices.Equal(got, c.want) {
			t.Errorf("%q: rows %v, want %v", c.query, got, c.want)
		}
	}
}

// TestLogBadFilters: a bad value is named, with its field, and nothing is
// searched.
func TestLogBadFilters(t *testing.T) {
	e := newEnv(t)
	corpus(e)
	b := e.browser()
	b.logIn(mgr)
	for q, want := range map[string]string{
		"from=yesterday":                  "From (day): &#34;yesterday&#34; is not a day written YYYY-MM-DD.",
		"to=2026-13-01":                   "To (day, included): &#34;2026-13-01&#34; is not a day",
		"from=2026-02-02&to=2026-02-01":   "The “to” day is before the “from” day.",
		"verdict=maybe":                   "Verdict: &#34;maybe&#34; is not one of",
		"address=jean":                    "Exact address: give the whole address",
		"cursor=%21%21not-a-cursor%21%21": "This page link is not valid any more",
	} {
		a := b.get(console.HomePath + "?" + q)
		if a.Status != http.StatusBadRequest || !strings.Contains(a.Body, want) {
			t.Errorf("%q: %d, want 400 with %q\n%s", q, a.Status, want, a.Body)
		}
		if len(refs(a.Body)) != 0 {
			t.Errorf("%q: rows shown with a bad filter", q)
		}
	}
}

// TestLogPagination: the cursor walks every row once, newest first, and
// keeps the filters.
func TestLogPagination(t *testing.T) {
	e := newEnv(t)
	var ds []ledger.Decision
	for i := range 120 {
		d := e.decision("P"+string(rune('A'+i/26))+string(rune('A'+i%26)), rep, "jean@example.fr", time.Duration(i)*time.Minute)
		if i%2 == 1 {
			d.Domain = "other.example"
		}
		ds = append(ds, d)
	}
	e.record(ds...)
	b := e.browser()
	b.logIn(mgr)
	var seen []string
	next := console.HomePath + "?domain=example.fr"
	for page := 0; next != ""; page++ {
		a := b.get(next)
		seen = append(seen, refs(a.Body)...)
		next = ""
		if i := strings.Index(a.Body, `rel="next"`); i >= 0 {
			s := a.Body[:i]
			s = s[strings.LastIndex(s, `href="`)+6:]
			next = strings.ReplaceAll(s[:strings.IndexByte(s, '"')], "&amp;", "&")
			if !strings.Contains(next, "domain=example.fr") {
				t.Fatalf("the next page link drops the filter: %s", next)
			}
		}
		if page > 5 {
			t.Fatal("pagination does not end")
		}
	}
	if len(seen) != 60 {
		t.Fatalf("%d rows over the pages, want 60", len(seen))
	}
	for i, r := range seen {
		if want := ds[2*i].Ref; r != want {
			t.Fatalf("row %d = %s, want %s (newest first, each once)", i, r, want)
		}
	}
}

// TestRepSeesOwnSendsOnly: the rep filter is forced in the query, in the
// page, the export and the transaction, whatever the URL says.
func TestRepSeesOwnSendsOnly(t *testing.T) {
	e := newEnv(t)
	corpus(e)
	b := e.browser()
	b.logIn(rep)
	for _, q := range []string{"", "rep=" + rep2, "rep=", "reason=opt-out", "address=marie%40orange.fr"} {
		a := b.get(console.HomePath + "?" + q)
		for _, r := range refs(a.Body) {
			if r != "A1" && r != "C1" {
				t.Errorf("rep's log page %q shows %s, another rep's", q, r)
			}
		}
		if strings.Contains(a.Body, "orange.fr") && !strings.Contains(q, "orange") || strings.Contains(a.Body, rep2) && !strings.Contains(q, rep2) {
			t.Errorf("rep's log page %q names another rep's send", q)
		}
	}
	if got := refs(b.get(console.HomePath).Body); !slices.Equal(got, []string{"A1", "C1"}) {
		t.Errorf("rep's own rows = %v, want [A1 C1]", got)
	}
	for _, ref := range []string{"B1", "D1", "NOPE"} {
		a := b.get(console.TransactionPath + ref)
		if a.Status != http.StatusNotFound || strings.Contains(a.Body, "orange") || strings.Contains(a.Body, "anna") {
			t.Errorf("rep opens another rep's transaction %s: %d", ref, a.Status)
		}
		if a := b.get(console.HomePath + "?ref=" + ref); a.Status != http.StatusSeeOther {
			t.Errorf("reference search %s: %d, want a redirect to the transaction", ref, a.Status)
		}
	}
	if a := b.get(console.TransactionPath + "A1"); a.Status != http.StatusOK {
		t.Errorf("rep's own transaction: %d", a.Status)
	}
	rows := readCSV(t, b.get(console.ExportPath+"?rep="+rep2))
	for _, r := range rows[1:] {
		if r[2] != rep {
			t.Errorf("rep's export holds a row of %s", r[2])
		}
	}
	if len(rows) != 3 {
		t.Errorf("rep's export: %d lines, want header + 2", len(rows))
	}
}

// TestTransactionPage: every recipient, every list version consulted and
// the outcome.
func TestTransactionPage(t *testing.T) {
	e := newEnv(t)
	a := e.decision("TX1", rep, "jean@example.fr", time.Minute)
	b := e.decision("TX1", rep, "luc@example.fr", time.Minute)
	b.Verdict, b.Reason, b.Match, b.Outcome = ledger.Allowed, "allowed", ledger.Match{}, ledger.Outcome{Kind: ledger.Sent, Reply: "250 2.0.0 queued as 42", At: e.clock.Now()}
	e.record(a, b)
	br := e.browser()
	br.logIn(mgr)
	br.get(console.HomePath + "?ref=TX1")
	page := br.get(console.TransactionPath + "TX1")
	for _, want := range []string{"j***@example.fr", "l***@example.fr", "<td>optout</td><td>v9</td>", "<td>fr-bloctel</td><td>v3</td>",
		"fr-bloctel v3 (email)", "250 2.0.0 queued as 42", "refused", rep} {
		if !strings.Contains(page.Body, want) {
			t.Errorf("transaction page lacks %q", want)
		}
	}
}

func readCSV(t *testing.T, a answer) [][]string {
	t.Helper()
	if a.Status != http.StatusOK || !strings.HasPrefix(a.Header.Get("Content-Type"), "text/csv") {
		t.Fatalf("export: %d %s\n%s", a.Status, a.Header.Get("Content-Type"), a.Body)
	}
	rows, err := csv.NewReader(strings.NewReader(a.Body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// TestExportFollowsFilters: the CSV holds the filtered view, every page
// of it, and is audited.
func TestExportFollowsFilters(t *testing.T) {
	e := newEnv(t)
	corpus(e)
	var ds []ledger.Decision
	for i := range 1500 {
		ds = append(ds, e.decision("M"+strings.Repeat("x", i%3)+string(rune('a'+i%26)), rep, "bulk@bulk.example", time.Duration(i)*time.Second))
	}
	e.record(ds...)
	b := e.browser()
	b.logIn(mgr)
	a := b.get(console.ExportPath + "?domain=bulk.example")
	if cd := a.Header.Get("Content-Disposition"); !strings.HasPrefix(cd, "attachment") {
		t.Errorf("Content-Disposition = %q", cd)
	}
	rows := readCSV(t, a)
	if len(rows) != 1501 || rows[0][0] != "time" {
		t.Fatalf("export: %d lines, header %v; want header + 1500", len(rows), rows[0])
	}
	rows = readCSV(t, b.get(console.ExportPath+"?reason=opt-out"))
	if len(rows) != 2 || rows[1][1] != "B1" {
		t.Fatalf("export by reason: %v", rows)
	}
	if ev := e.audits(ledger.ActExport); len(ev) != 2 || ev[0].Actor != mgr {
		t.Fatalf("export audit = %+v", ev)
	}
}
