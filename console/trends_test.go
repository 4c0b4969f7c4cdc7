package console

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/dncgate/dncgate/ledger"
	"github.com/dncgate/dncgate/ledger/ledgertest"
)

// trendDecisions: the rep, the manager and a rep named with markup, over
// three days, with a reason holding markup too.
func (r *review) trendDecisions() {
	var ds []ledger.Decision
	for i, who := range []string{repUser, repUser, managerUser, r.evil, r.evil, r.evil} {
		for day := range 3 {
			v := ledger.Allowed
			if i%2 == 1 {
				v = ledger.Refused
			}
			d := ledgertest.Decision(fmt.Sprintf("T%d%d", i, day), i, -time.Duration(day)*24*time.Hour, v)
			d.Rep = who
			if who == r.evil && v == ledger.Refused {
				d.Reason = `policy:<b onmouseover="x">`
			}
			ds = append(ds, d)
		}
	}
	r.record(ds...)
}

func TestTrendsPage(t *testing.T) {
	r := newReview(t)
	r.trendDecisions()
	code, body := r.get(managerUser, TrendsPath)
	if code != http.StatusOK {
		t.Fatalf("trends: %d\n%s", code, body)
	}
	mustContain(t, body, `role="img"`, "<title id=\"refusals-title\">Refusals per day, by reason</title>",
		"<title id=\"sends-title\">Sends per day</title>", `<caption>Refusals per day, by reason</caption>`,
		`<table class="responsive" id="reps">`, repUser, managerUser, "list:be-dncm (3)")
	// 30 days by default, ending today: the first and the last day are in the tables.
	first, last := ledger.LastDays(r.now, 30).From, ledger.DayOf(r.now)
	mustContain(t, body, `<th scope="row">`+label(first)+`</th>`, `<th scope="row">`+label(last)+`</th>`)
	// Markup in a rep's name and in a reason is text.
	mustNotContain(t, body, "<script>alert", `<b onmouseover`)
	mustContain(t, body, "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;", "policy:&lt;b onmouseover=&#34;x&#34;&gt;")
	// The totals: 9 sent, 9 refused over the three days.
	mustContain(t, body, "<tfoot><tr><th scope=\"row\">Total</th><td data-label=\"Sent\">9</td><td data-label=\"Refused\">9</td><td data-label=\"Temporary failures\">0</td>")
}

func TestTrendsRepSeesOnlyThemselves(t *testing.T) {
	r := newReview(t)
	r.trendDecisions()
	for _, path := range []string{TrendsPath, TrendsPath + "?rep=" + managerUser} {
		code, body := r.get(repUser, path)
		if code != http.StatusOK {
			t.Fatalf("%s: %d", path, code)
		}
		mustContain(t, body, repUser, "You see your own sends only.")
		mustNotContain(t, body, managerUser+"</th>", "&lt;script&gt;")
		// The rep's own: 3 sent, 3 refused.
		mustContain(t, body, "<tfoot><tr><th scope=\"row\">Total</th><td data-label=\"Sent\">3</td><td data-label=\"Refused\">3</td>")
	}
}

func TestTrendsRange(t *testing.T) {
	r := newReview(t)
	r.trendDecisions()
	to := r.now.Format(dateLayout)
	from := r.now.AddDate(0, 0, -1).Format(dateLayout)
	code, body := r.get(managerUser, TrendsPath+"?from="+from+"&to="+to)
	if code != http.StatusOK {
		t.Fatalf("%d", code)
	}
	if n := strings.Count(body, `<tr><th scope="row">`+from); n != 2 {
		t.Errorf("the day %s is in %d tables, want 2 (refusals and sends)", from, n)
	}
	mustNotContain(t, body, `<th scope="row">`+r.now.AddDate(0, 0, -2).Format(dateLayout)+`</th>`)
	mustContain(t, body, "<tfoot><tr><th scope=\"row\">Total</th><td data-label=\"Sent\">6</td><td data-label=\"Refused\">6</td>")
	for _, bad := range []string{"?from=yesterday", "?from=" + to + "&to=" + from, "?from=2020-01-01&to=" + to} {
		code, body := r.get(managerUser, TrendsPath+bad)
		if code != http.StatusBadRequest || !strings.Contains(body, `role="alert"`) {
			t.Errorf("%s: %d, want 400 with the problem:\n%s", bad, code, body)
		}
	}
}

func TestTrendsFrench(t *testing.T) {
	r := newReview(t)
	r.trendDecisions()
	req, _ := http.NewRequest("GET", r.srv.URL+TrendsPath, nil)
	req.Header.Set("Accept-Language", "fr")
	resp, err := r.as(managerUser).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b strings.Builder
	if _, err := fmt.Fprint(&b, readAll(t, resp)); err != nil {
		t.Fatal(err)
	}
	mustContain(t, b.String(), "Refus par jour, par motif", "Envois par jour", "Par commercial")
}
