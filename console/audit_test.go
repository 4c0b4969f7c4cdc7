package console_test

import (
	"context"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dncgate/dncgate/console"
	"github.com/dncgate/dncgate/ledger"
	"github.com/dncgate/dncgate/ledger/export"
)

// addAudits writes audit events to the trail.
func (e *env) addAudits(evs ...ledger.AuditEvent) {
	e.t.Helper()
	for _, ev := range evs {
		if err := e.led.Audit(context.Background(), ev); err != nil {
			e.t.Fatal(err)
		}
	}
}

// marked is an event whose details name it ("n=NAME"), so the page's rows
// can be told apart from the logins the tests make.
func (e *env) marked(name string, a ledger.Action, actor, object string, ago time.Duration) ledger.AuditEvent {
	return ledger.AuditEvent{At: e.clock.Now().Add(-ago).Truncate(time.Microsecond), Action: a, Actor: actor, Object: object,
		Details: map[string]string{"n": name}}
}

var markRE = regexp.MustCompile(`[> ]n=([A-Za-z0-9-]+)`)

// marks are the names of the audit page's rows, in order.
func marks(body string) []string {
	var out []string
	for _, m := range markRE.FindAllStringSubmatch(body, -1) {
		out = append(out, m[1])
	}
	return out
}

// auditCorpus: six events of different actions, actors, objects and days;
// E5 is older than the default 30 days.
func auditCorpus(e *env) {
	day := 24 * time.Hour
	jean, marie := ledger.RcptDigest(digestKey, "jean@example.fr"), ledger.RcptDigest(digestKey, "marie@orange.fr")
	e1 := e.marked("E1", ledger.ActListImport, "ops", "fr-bloctel", time.Hour)
	e1.Details["sha256"] = "ab12"
	e2 := e.marked("E2", ledger.ActOptOut, mgr, "", 2*time.Hour)
	e2.Digest, e2.Source, e2.Reason = &jean, ledger.SourceConsole, "asked by phone"
	e3 := e.marked("E3", ledger.ActEntryAdd, admin, "optout", 3*day)
	e3.Digest = &marie
	e4 := e.marked("E4", ledger.ActCapReset, "ops", "daily-fr", 10*day)
	e5 := e.marked("E5", ledger.ActUserChange, admin, rep, 40*day)
	e6 := e.marked("E6", ledger.ActErase, admin, "", 5*day)
	e6.Reason = "GDPR request 42"
	e.addAudits(e1, e2, e3, e4, e5, e6)
}

// TestAuditFilters: each filter selects what it says; the last 30 days by
// default.
func TestAuditFilters(t *testing.T) {
	e := newEnv(t)
	auditCorpus(e)
	b := e.browser()
	b.logIn(mgr)
	day := 24 * time.Hour
	for _, c := range []struct {
		query string
		want  []string
	}{
		{"", []string{"E1", "E2", "E3", "E6", "E4"}},
		{"from=" + e.day(50*day), []string{"E1", "E2", "E3", "E6", "E4", "E5"}},
		{"from=" + e.day(5*day) + "&to=" + e.day(2*day), []string{"E3", "E6"}},
		{"to=" + e.day(9*day), []string{"E4"}},
		{"action=opt-out", []string{"E2"}},
		{"actor=ops", []string{"E1", "E4"}},
		{"actor=" + url.QueryEscape(admin) + "&from=" + e.day(50*day), []string{"E3", "E6", "E5"}},
		{"object=fr-bloctel", []string{"E1"}},
		{"object=" + url.QueryEscape(rep) + "&from=" + e.day(50*day), []string{"E5"}},
		{"address=" + url.QueryEscape("Jean@Example.fr"), []string{"E2"}},
		{"address=" + url.QueryEscape("marie@orange.fr"), []string{"E3"}},
		{"address=" + url.QueryEscape("nobody@orange.fr"), nil},
		{"action=entry-add&actor=" + url.QueryEscape(admin), []string{"E3"}},
	} {
		a := b.get(console.AuditPath + "?" + c.query)
		if a.Status != http.StatusOK {
			t.Errorf("%q: %d", c.query, a.Status)
			continue
		}
		if got := marks(a.Body); !slices.Equal(got, c.want) {
			t.Errorf("%q: rows %v, want %v", c.query, got, c.want)
		}
	}
	// The form shows the default range, and the action select every
	// action by its name.
	a := b.get(console.AuditPath)
	mustHave(t, a.Body, `name="from" type="date" value="`+e.day(29*day)+`"`, `name="to" type="date" value="`+e.day(0)+`"`,
		`<option value="opt-out">opt-out</option>`, `<option value="list-import">list imported</option>`)
	for _, act := range ledger.Actions {
		if !strings.Contains(a.Body, `<option value="`+string(act)+`">`) || strings.Contains(a.Body, ">action."+string(act)+"<") {
			t.Errorf("the action select lacks a named %s", act)
		}
	}
	if sel := b.get(console.AuditPath + "?action=erase").Body; !strings.Contains(sel, `<option value="erase" selected>erasure</option>`) {
		t.Error("the chosen action is not selected in the form")
	}
}

func mustHave(t *testing.T, body string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(body, w) {
			t.Errorf("the page lacks %q", w)
		}
	}
}

// TestAuditPerson: an event about a person shows its digest, and no
// address is on the page, since none is stored.
func TestAuditPerson(t *testing.T) {
	e := newEnv(t)
	auditCorpus(e)
	b := e.browser()
	b.logIn(mgr)
	body := b.get(console.AuditPath).Body
	jean := ledger.RcptDigest(digestKey, "jean@example.fr")
	mustHave(t, body, "a person (digest "+hex.EncodeToString(jean[:8])+"…)", "optout, a person (digest ",
		"asked by phone", "GDPR request 42", "n=E1 sha256=ab12", "list imported", ">console<")
	for _, addr := range []string{"jean", "marie", "orange.fr", "example.fr"} {
		if strings.Contains(body, addr) {
			t.Errorf("the audit page holds %q", addr)
		}
	}
}

// TestAuditBadFilters: a bad value is named, with its field, and nothing
// is searched.
func TestAuditBadFilters(t *testing.T) {
	e := newEnv(t)
	auditCorpus(e)
	b := e.browser()
	b.logIn(mgr)
	for q, want := range map[string]string{
		"from=yesterday":                  "From (day): &#34;yesterday&#34; is not a day written YYYY-MM-DD.",
		"to=2026-13-01":                   "To (day, included): &#34;2026-13-01&#34; is not a day",
		"from=2026-02-02&to=2026-02-01":   "The “to” day is before the “from” day.",
		"action=maybe":                    "Action: &#34;maybe&#34; is not an action of the audit trail.",
		"address=jean":                    "Exact address: give the whole address",
		"cursor=%21%21not-a-cursor%21%21": "This page link is not valid any more",
	} {
		a := b.get(console.AuditPath + "?" + q)
		if a.Status != http.StatusBadRequest || !strings.Contains(a.Body, want) {
			t.Errorf("%q: %d, want 400 with %q\n%s", q, a.Status, want, a.Body)
		}
		if len(marks(a.Body)) != 0 {
			t.Errorf("%q: rows shown with a bad filter", q)
		}
		if strings.HasPrefix(q, "cursor=") {
			continue // the export has no pages: it ignores a cursor
		}
		if c := b.get(console.AuditExportPath + "?" + q); c.Status != http.StatusBadRequest || !strings.Contains(c.Body, strings.ReplaceAll(want, "&#34;", `"`)) {
			t.Errorf("export %q: %d %q, want 400 naming the problem", q, c.Status, c.Body)
		}
	}
	if ev := e.audits(ledger.ActExport); len(ev) != 0 {
		t.Errorf("a refused export is audited: %+v", ev)
	}
}

// TestAuditRoles: managers and admins read the trail; a rep is refused the
// page and its export and has no menu entry; logged out goes to the login.
func TestAuditRoles(t *testing.T) {
	e := newEnv(t)
	auditCorpus(e)
	for _, path := range []string{console.AuditPath, console.AuditExportPath} {
		a := e.browser().get(path + "?action=opt-out")
		if loc := a.Header.Get("Location"); a.Status != http.StatusSeeOther || !strings.HasPrefix(loc, console.LoginPath+"?next=") ||
			!strings.Contains(loc, url.QueryEscape(path)) {
			t.Errorf("logged out %s: %d %q, want the login page", path, a.Status, loc)
		}
	}
	r := e.browser()
	r.logIn(rep)
	if strings.Contains(r.last, `href="/console/audit"`) {
		t.Error("a rep's menu links the audit trail")
	}
	for _, path := range []string{console.AuditPath, console.AuditExportPath} {
		if a := r.get(path); a.Status != http.StatusForbidden || len(marks(a.Body)) != 0 || strings.Contains(a.Body, "asked by phone") {
			t.Errorf("rep opens %s: %d", path, a.Status)
		}
	}
	for _, who := range []string{mgr, admin} {
		b := e.browser()
		b.logIn(who)
		if !strings.Contains(b.last, `<a href="/console/audit">Audit trail</a>`) {
			t.Errorf("the menu of %s lacks the audit trail", who)
		}
		a := b.get(console.AuditPath)
		if a.Status != http.StatusOK || !slices.Equal(marks(a.Body), []string{"E1", "E2", "E3", "E6", "E4"}) {
			t.Errorf("%s: %d, rows %v", who, a.Status, marks(a.Body))
		}
		if !strings.Contains(a.Body, `<a href="/console/audit" aria-current="page">`) {
			t.Errorf("%s: the menu does not mark the audit page as current", who)
		}
		if csp := a.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") || strings.Contains(a.Body, "<script") {
			t.Errorf("%s: the audit page has CSP %q or a script", who, csp)
		}
	}
}

// TestAuditPagination: the cursor walks every event once, newest first,
// keeps the filters, and splits events of the same instant correctly.
func TestAuditPagination(t *testing.T) {
	e := newEnv(t)
	var evs []ledger.AuditEvent
	for i := range 120 {
		// Three events an instant, so a page boundary falls between two
		// events of the same time.
		ev := e.marked(fmt.Sprintf("P%03d", i), ledger.ActCapReset, "ops", "daily", time.Duration(i/3)*time.Minute)
		ev.ID = fmt.Sprintf("id-%03d", (i*37)%120)
		evs = append(evs, ev)
	}
	e.addAudits(evs...)
	sort.Slice(evs, func(i, j int) bool {
		if !evs[i].At.Equal(evs[j].At) {
			return evs[i].At.After(evs[j].At)
		}
		return evs[i].ID > evs[j].ID
	})
	b := e.browser()
	b.logIn(mgr)
	var seen []string
	var pages []int
	next := console.AuditPath + "?action=cap-reset"
	for next != "" {
		a := b.get(next)
		if a.Status != http.StatusOK {
			t.Fatalf("GET %s: %d", next, a.Status)
		}
		rows := marks(a.Body)
		seen, pages = append(seen, rows...), append(pages, len(rows))
		if len(pages) > 1 && !strings.Contains(a.Body, `>First page</a>`) {
			t.Error("a later page has no link to the first")
		}
		next = ""
		if i := strings.Index(a.Body, `rel="next"`); i >= 0 {
			s := a.Body[:i]
			s = s[strings.LastIndex(s, `href="`)+6:]
			next = strings.ReplaceAll(s[:strings.IndexByte(s, '"')], "&amp;", "&")
			if !strings.Contains(next, "action=cap-reset") || !strings.Contains(next, "from=") {
				t.Fatalf("the next page link drops the filters: %s", next)
			}
		}
		if len(pages) > 5 {
			t.Fatal("pagination does not end")
		}
	}
	if !slices.Equal(pages, []int{50, 50, 20}) {
		t.Fatalf("page sizes %v, want [50 50 20] (no empty last page)", pages)
	}
	for i, ev := range evs {
		if want := ev.Details["n"]; seen[i] != want {
			t.Fatalf("row %d = %s, want %s (newest first, each once)", i, seen[i], want)
		}
	}
}

// TestAuditExport: the CSV holds the filtered view, every page of it, with
// formulas neutralised, and the export is itself in the trail.
func TestAuditExport(t *testing.T) {
	e := newEnv(t)
	auditCorpus(e)
	f := e.marked("F1", ledger.ActOptOut, "=cmd|' /C calc'!A0", "@SUM(A1)", 3*time.Hour)
	f.Reason = "=cmd|' /C calc'!A0"
	e.addAudits(f)
	var bulk []ledger.AuditEvent
	for i := range 1001 {
		bulk = append(bulk, e.marked(fmt.Sprintf("B%04d", i), ledger.ActBounced, "bounce", "bounced", time.Duration(i)*time.Second+time.Minute))
	}
	e.addAudits(bulk...)
	b := e.browser()
	b.logIn(mgr)
	a := b.get(console.AuditExportPath + "?action=bounced")
	if cd := a.Header.Get("Content-Disposition"); cd != `attachment; filename="dncgate-audit.csv"` {
		t.Errorf("Content-Disposition = %q", cd)
	}
	rows := readCSV(t, a)
	if !slices.Equal(rows[0], export.AuditHeader) || len(rows) != 1002 {
		t.Fatalf("bounced export: %d lines, header %v; want %v + 1001", len(rows), rows[0], export.AuditHeader)
	}
	if rows[1][8] != "n=B0000" || rows[1001][8] != "n=B1000" {
		t.Errorf("bounced export order: first %v, last %v", rows[1], rows[1001])
	}
	e.clock.Advance(time.Second)
	rows = readCSV(t, b.get(console.AuditExportPath+"?action=opt-out"))
	if len(rows) != 3 {
		t.Fatalf("opt-out export: %v", rows)
	}
	if got := rows[2][3:8]; !slices.Equal(got, []string{"'=cmd|' /C calc'!A0", "'@SUM(A1)", "", "", "'=cmd|' /C calc'!A0"}) {
		t.Errorf("formula cells = %q", got)
	}
	jean := ledger.RcptDigest(digestKey, "jean@example.fr")
	if rows[1][5] != hex.EncodeToString(jean[:]) || rows[1][6] != "console" {
		t.Errorf("the opt-out's row = %q", rows[1])
	}
	ev := e.audits(ledger.ActExport)
	if len(ev) != 2 || ev[0].Actor != mgr || ev[0].Object != "audit" || ev[0].Details["rows"] != "2" ||
		!strings.Contains(ev[0].Details["filter"], "action=opt-out") || ev[1].Details["rows"] != "1001" {
		t.Fatalf("export audit = %+v", ev)
	}
	// The export's own event is on the page after it.
	if body := b.get(console.AuditPath + "?action=export").Body; !strings.Contains(body, "filter=action=opt-out&amp;from=") || !strings.Contains(body, ">audit<") {
		t.Error("the audit page does not show the export")
	}
}

// TestAuditHostileText: markup and quotes in the actor, the object, the
// reason and the details show as text.
func TestAuditHostileText(t *testing.T) {
	e := newEnv(t)
	ev := e.marked("X1", ledger.ActUserChange, "ops"+evil, "obj"+evil, time.Minute)
	ev.Reason, ev.Details[evil] = "why"+evil, evil
	e.addAudits(ev)
	b := e.browser()
	b.logIn(mgr)
	for _, path := range []string{console.AuditPath, console.AuditPath + "?object=" + url.QueryEscape(evil) + "&actor=" + url.QueryEscape(evil)} {
		a := b.get(path)
		if a.Status != http.StatusOK {
			t.Fatalf("GET %s: %d", path, a.Status)
		}
		for _, raw := range []string{"<script>", "<img src=x", "onerror=alert(1)>"} {
			if strings.Contains(a.Body, raw) {
				t.Errorf("GET %s: the markup %q is in the page", path, raw)
			}
		}
	}
	body := b.get(console.AuditPath).Body
	esc := "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&#39;&#34;&gt;&lt;img src=x onerror=alert(1)&gt;"
	mustHave(t, body, "ops"+esc, "obj"+esc, "why"+esc, esc+"="+esc)
}

// TestAuditFrench: the page, its actions and a person in French.
func TestAuditFrench(t *testing.T) {
	e := newEnv(t)
	auditCorpus(e)
	b := e.browser()
	b.logIn(mgr)
	b.get(console.LanguagePath + "?to=fr")
	a := b.get(console.AuditPath)
	if a.Status != http.StatusOK || a.Header.Get("Content-Language") != "fr" {
		t.Fatalf("French page: %d %q", a.Status, a.Header.Get("Content-Language"))
	}
	mustHave(t, a.Body, "<h1>Journal d’audit</h1>", "<caption>Événements d’audit, les plus récents d’abord</caption>",
		">liste importée<", ">opposition<", "une personne (empreinte ", `<label for="a-actor">Par qui</label>`,
		`<option value="totp-reset">second facteur réinitialisé</option>`, "Télécharger ces résultats en CSV",
		`<a href="/console/audit" aria-current="page">Journal d’audit</a>`)
	if a := b.get(console.AuditPath + "?action=peut-etre"); !strings.Contains(a.Body, "Action : &#34;peut-etre&#34; n’est pas une action du journal d’audit.") {
		t.Errorf("the French problem is missing:\n%s", a.Body)
	}
}

// auditBenchEnv sets how many events BenchmarkAuditPage seeds.
const auditBenchEnv = "DNCGATE_AUDIT_BENCH_N"

// BenchmarkAuditPage measures the audit page as a manager gets it, through
// the handler, the session check and the template, on a trail of
// DNCGATE_AUDIT_BENCH_N events (5,000 by default; each is written on its
// own, as the gateway does) over 30 days: the first page, and a page 90%
// of the way down, reached by its cursor. deep/first is the ratio of their
// medians, measured in the same run; a cursor that counted the rows before
// it would grow it with the trail.
func BenchmarkAuditPage(b *testing.B) {
	n := 5000
	if s := os.Getenv(auditBenchEnv); s != "" {
		var err error
		if n, err = strconv.Atoi(s); err != nil || n < 1000 {
			b.Fatalf("%s=%q: want a number of events, at least 1000", auditBenchEnv, s)
		}
	}
	e := newEnv(b)
	span := 29 * 24 * time.Hour
	var deep ledger.Cursor
	for i := range n {
		ev := e.marked(fmt.Sprintf("S%d", i), ledger.Actions[i%len(ledger.Actions)], fmt.Sprintf("user%02d@acme.example", i%40), "obj", span*time.Duration(i)/time.Duration(n))
		ev.ID = fmt.Sprintf("%08d", i)
		e.addAudits(ev)
		if i == n*9/10 {
			deep = ev.Cursor()
		}
	}
	br := e.browser()
	br.logIn(mgr)
	first, deepPath := console.AuditPath, console.AuditPath+"?cursor="+deep.Encode()
	var firsts, deeps []time.Duration
	for b.Loop() {
		for _, p := range []struct {
			path string
			ds   *[]time.Duration
		}{{first, &firsts}, {deepPath, &deeps}} {
			t := time.Now()
			a := br.get(p.path)
			*p.ds = append(*p.ds, time.Since(t))
			if rows := strings.Count(a.Body, `<td data-label="Time">`); a.Status != http.StatusOK || rows != 50 {
				b.Fatalf("GET %s: %d, %d rows", p.path, a.Status, rows)
			}
		}
	}
	f50, f99 := percentiles(firsts)
	d50, d99 := percentiles(deeps)
	b.ReportMetric(f50, "first-p50-ms")
	b.ReportMetric(f99, "first-p99-ms")
	b.ReportMetric(d50, "deep-p50-ms")
	b.ReportMetric(d99, "deep-p99-ms")
	b.ReportMetric(d50/f50, "deep/first")
}

// percentiles are the p50 and p99 of ds, in milliseconds.
func percentiles(ds []time.Duration) (p50, p99 float64) {
	slices.Sort(ds)
	pct := func(p float64) float64 { return float64(ds[int(float64(len(ds)-1)*p)]) / 1e6 }
	return pct(0.50), pct(0.99)
}
