package console_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/dncgate/dncgate/console"
	"github.com/dncgate/dncgate/ledger"
)

const evil = `<script>alert("x")</script>'"><img src=x onerror=alert(1)>`

// TestHostileRecordsRenderAsText: a recipient, a reason, a list and a rep
// holding markup and quotes show as text on every page, and the CSV's
// cells cannot run as formulas.
func TestHostileRecordsRenderAsText(t *testing.T) {
	e := newEnv(t)
	d := e.decision("XSS1", "rep"+evil+"@acme.example", "jean@example.fr", time.Minute)
	d.RcptMasked, d.Reason, d.Match.List = "j"+evil+"@example.fr", ledger.Reason("list:"+evil), evil
	d.Lists = append(d.Lists, ledger.ListVersion{List: evil, Version: evil})
	f := e.decision("XSS2", rep, "formula@example.fr", 2*time.Minute)
	f.RcptMasked, f.Reason, f.Match.List = `=HYPERLINK("http://evil.example","x")`, "+cmd", "@SUM(A1)"
	e.record(d, f)
	b := e.browser()
	b.logIn(mgr)
	for _, path := range []string{console.HomePath, console.HomePath + "?list=" + strings.ReplaceAll(evil, " ", "+"), console.TransactionPath + "XSS1"} {
		a := b.get(path)
		if a.Status != http.StatusOK && a.Status != http.StatusBadRequest {
			t.Fatalf("GET %s: %d", path, a.Status)
		}
		for _, raw := range []string{"<script>", "<img src=x", "onerror=alert(1)>"} {
			if strings.Contains(a.Body, raw) {
				t.Errorf("GET %s: the markup %q is in the page", path, raw)
			}
		}
		if path != console.HomePath+"?list="+strings.ReplaceAll(evil, " ", "+") && !strings.Contains(a.Body, "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;") {
			t.Errorf("GET %s: the record is not shown escaped", path)
		}
	}
	a := b.get(console.ExportPath)
	if a.Header.Get("X-Content-Type-Options") != "nosniff" || !strings.HasPrefix(a.Header.Get("Content-Type"), "text/csv") {
		t.Fatalf("export headers: %v", a.Header)
	}
	rows := readCSV(t, a)
	var got []string
	for _, r := range rows[1:] {
		if r[1] == "XSS2" {
			got = []string{r[4], r[12], r[13]}
		}
	}
	want := []string{`'=HYPERLINK("http://evil.example","x")`, "'+cmd", "'@SUM(A1)"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("formula cells = %q, want %q", got, want)
	}
}
