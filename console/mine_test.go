package console

import (
	"bytes"
	"context"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"

	"github.com/dncgate/dncgate/config"
	"github.com/dncgate/dncgate/ledger"
	"github.com/dncgate/dncgate/ledger/ledgertest"
	"github.com/dncgate/dncgate/suppression"
)

func (r *review) withChecker() {
	r.t.Helper()
	pol, err := suppression.NewPolicy(config.Policy{})
	if err != nil {
		r.t.Fatal(err)
	}
	chk, err := suppression.New(suppression.Options{Lists: r.st, Contacts: r.st.Contacts(), Policy: pol, Key: r.key})
	if err != nil {
		r.t.Fatal(err)
	}
	r.c.o.Checker = chk
}

func TestMineShowsOnlyOwnRefusals(t *testing.T) {
	r := newReview(t)
	mine := ledgertest.Decision("M1", 1, 0, ledger.Refused)
	mine.Rep, mine.RcptMasked, mine.Reason = repUser, "m***@x.example", `list:<i>x</i>`
	other := ledgertest.Decision("O1", 2, 0, ledger.Refused)
	other.Rep, other.RcptMasked = managerUser, "o***@x.example"
	sent := ledgertest.Decision("S1", 3, 0, ledger.Allowed)
	sent.Rep, sent.RcptMasked = repUser, "s***@x.example"
	r.record(mine, other, sent)
	code, body := r.get(repUser, MinePath)
	if code != http.StatusOK {
		t.Fatalf("%d\n%s", code, body)
	}
	mustContain(t, body, "m***@x.example", "list:&lt;i&gt;x&lt;/i&gt;", `href="/console/tx/M1"`)
	mustNotContain(t, body, "o***@x.example", "s***@x.example", "<i>x</i>")
}

func (r *review) scrub(email, name, content string) (*http.Response, string) {
	r.t.Helper()
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	w.WriteField(csrfField, "csrf-"+email)
	fw, _ := w.CreateFormFile("file", name)
	io.WriteString(fw, content)
	w.Close()
	req, _ := http.NewRequest("POST", r.srv.URL+ScrubPath, &b)
	req.Header.Set("Content-Type", w.FormDataContentType())
	resp, err := r.as(email).Do(req)
	if err != nil {
		r.t.Fatal(err)
	}
	defer resp.Body.Close()
	return resp, readAll(r.t, resp)
}

func TestScrubUpload(t *testing.T) {
	r := newReview(t)
	r.withChecker()
	if err := suppression.EnsureOptOut(context.Background(), r.st); err != nil {
		t.Fatal(err)
	}
	if err := suppression.NewOptOuts(r.st, r.key).OptOut(context.Background(), "gone@firma.de"); err != nil {
		t.Fatal(err)
	}
	resp, body := r.scrub(repUser, "prospects.csv", "name,email\nAnna,anna@firma.de\nGone,gone@firma.de\nBad,not-an-address\n")
	if resp.StatusCode != http.StatusOK || !strings.Contains(resp.Header.Get("Content-Disposition"), `filename="prospects-checked.csv"`) {
		t.Fatalf("scrub: %d %v\n%s", resp.StatusCode, resp.Header, body)
	}
	lines := strings.Split(strings.TrimSpace(body), "\n")
	if len(lines) != 4 || !strings.HasPrefix(lines[0], "name,email,verdict,reason") ||
		!strings.Contains(lines[2], "refused") || !strings.Contains(lines[2], "opt-out") {
		t.Errorf("checked file:\n%s", body)
	}
	resp, body = r.scrub(repUser, "empty.csv", "")
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("an empty file: %d\n%s", resp.StatusCode, body)
	}
}
