package export

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dncgate/dncgate/ledger"
)

func TestSafeCell(t *testing.T) {
	for in, want := range map[string]Cell{
		"=HYPERLINK(\"x\")": "'=HYPERLINK(\"x\")",
		"+33 1 23":          "'+33 1 23",
		"-2+3":              "'-2+3",
		"@SUM(A1)":          "'@SUM(A1)",
		"\tx":               "'\tx",
		"\rx":               "'\rx",
		"j***@acme.fr":      "j***@acme.fr",
		"a=b":               "a=b",
		"":                  "",
	} {
		if got := SafeCell(in); got != want {
			t.Errorf("SafeCell(%q) = %q, want %q", in, got, want)
		}
	}
}

func sample() ledger.Decision {
	return ledger.Decision{ID: "id1", At: time.Date(2026, 6, 15, 12, 0, 0, 0, time.UTC), Ref: "R1",
		Rep: "=cmd|' /C calc'!A0", Sender: "a@corp.example", RcptMasked: "j***@acme.fr", RcptDigest: ledger.Digest{0xab},
		Domain: "acme.fr", Verdict: ledger.Refused, Reason: "list:be-dncm",
		Match:   ledger.Match{List: "be-dncm", Version: "v7", KeyKind: "phone"},
		Lists:   []ledger.ListVersion{{List: "optout", Version: "v1"}, {List: "be-dncm", Version: "v7"}},
		Outcome: ledger.Outcome{Kind: ledger.LeftOut}, Subject: "@everyone offer"}
}

// Every cell that could run as a formula is defused, the rest untouched,
// and the CSV parses back to the header's width.
func TestCSV(t *testing.T) {
	var b bytes.Buffer
	c, err := NewCSV(&b)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Write([]ledger.Decision{sample()}); err != nil || c.Flush() != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&b).ReadAll()
	if err != nil || len(rows) != 2 {
		t.Fatalf("CSV read back: %v, %d rows", err, len(rows))
	}
	row := map[string]string{}
	for i, h := range rows[0] {
		row[h] = rows[1][i]
	}
	want := map[string]string{"rep": "'=cmd|' /C calc'!A0", "subject": "'@everyone offer", "recipient": "j***@acme.fr",
		"lists": "optout@v1 be-dncm@v7", "reason": "list:be-dncm", "outcome": "left-out", "time": "2026-06-15T12:00:00Z"}
	for k, v := range want {
		if row[k] != v {
			t.Errorf("%s = %q, want %q", k, row[k], v)
		}
	}
	if !strings.HasPrefix(row["digest"], "ab00") {
		t.Errorf("digest = %q", row["digest"])
	}
}

func TestJSON(t *testing.T) {
	var b bytes.Buffer
	j := NewJSON(&b)
	if err := j.Write([]ledger.Decision{sample(), sample()}); err != nil || j.Flush() != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	var r Record
	if len(lines) != 2 || json.Unmarshal([]byte(lines[0]), &r) != nil || r.Ref != "R1" || len(r.Lists) != 2 || r.OutcomeTime != nil {
		t.Errorf("JSON lines %q", lines)
	}
}

type pager struct{ all []ledger.Decision }

func (p pager) Query(_ context.Context, q ledger.Query) (ledger.Page, error) {
	start := 0
	if q.Cursor != "" {
		start, _ = strconv.Atoi(q.Cursor)
	}
	end := min(start+q.Limit, len(p.all))
	next := ""
	if end < len(p.all) {
		next = strconv.Itoa(end)
	}
	return ledger.Page{Decisions: p.all[start:end], Next: next}, nil
}

// Stream writes every page, in order.
func TestStream(t *testing.T) {
	var all []ledger.Decision
	for i := range 25 {
		d := sample()
		d.Ref = fmt.Sprintf("R%02d", i)
		all = append(all, d)
	}
	var b bytes.Buffer
	w, _ := NewCSV(&b)
	n, err := Stream(context.Background(), pager{all}, ledger.Query{Limit: 7}, w)
	if err != nil || n != 25 {
		t.Fatalf("Stream = %d, %v", n, err)
	}
	rows, _ := csv.NewReader(&b).ReadAll()
	for i, r := range rows[1:] {
		if r[1] != fmt.Sprintf("R%02d", i) {
			t.Fatalf("row %d is %s", i, r[1])
		}
	}
	if len(rows) != 26 {
		t.Errorf("%d rows", len(rows))
	}
}
