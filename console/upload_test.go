package console

import (
	"bytes"
	"context"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/dncgate/dncgate/ledger"
)

// upload posts file as email to the upload form and returns the response.
func (r *review) upload(email, list, name, content string, csrf bool) (*http.Response, string) {
	r.t.Helper()
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	if csrf {
		w.WriteField(csrfField, "csrf-"+email)
	}
	w.WriteField("kind", "list")
	w.WriteField("list", list)
	fw, _ := w.CreateFormFile("file", name)
	io.WriteString(fw, content)
	w.Close()
	req, _ := http.NewRequest("POST", r.srv.URL+UploadPath, &b)
	req.Header.Set("Content-Type", w.FormDataContentType())
	resp, err := r.as(email).Do(req)
	if err != nil {
		r.t.Fatal(err)
	}
	defer resp.Body.Close()
	return resp, readAll(r.t, resp)
}

// follow polls a job's page, as its Refresh header asks, until it ends.
func (r *review) follow(email, path string) string {
	r.t.Helper()
	for range 200 {
		resp, err := r.as(email).Get(r.srv.URL + path)
		if err != nil {
			r.t.Fatal(err)
		}
		body := readAll(r.t, resp)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			r.t.Fatalf("%s: %d\n%s", path, resp.StatusCode, body)
		}
		if resp.Header.Get("Refresh") == "" {
			return body
		}
		time.Sleep(20 * time.Millisecond)
	}
	r.t.Fatal("the import did not end")
	return ""
}

func TestUploadList(t *testing.T) {
	r := newReview(t)
	r.fourLists()
	ctx := context.Background()
	_, before, _ := r.st.List(ctx, "fresh-list")
	resp, body := r.upload(adminUser, "fresh-list", "fresh.csv", "a@x.example\nb@x.example\nf@x.example\nnot an address\n", true)
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), JobPath) {
		t.Fatalf("upload: %d %s\n%s", resp.StatusCode, resp.Header.Get("Location"), body)
	}
	body = r.follow(adminUser, resp.Header.Get("Location"))
	mustContain(t, body, "done: the new version is in force", `<dd id="job-rows">4</dd>`, "+1 / −0", "line 4")
	_, after, _ := r.st.List(ctx, "fresh-list")
	if after.ID == before.ID || after.Entries != 3 || after.ImportedBy != adminUser {
		t.Errorf("after the upload: %+v; want a new version of 3 entries by the admin", after)
	}
	evs, err := r.led.Audits(ctx, ledger.AuditQuery{Action: ledger.ActListImport})
	if err != nil || len(evs) != 1 || evs[0].Actor != adminUser || evs[0].Details["version"] != after.ID || evs[0].Details["file"] != "fresh.csv" {
		t.Errorf("audit trail: %+v, %v", evs, err)
	}
}

// A file the import refuses (no valid row, or removing too much of the
// list) says why, and the version in force stays.
func TestUploadRefusedChangesNothing(t *testing.T) {
	r := newReview(t)
	r.fourLists()
	ctx := context.Background()
	_, before, _ := r.st.List(ctx, "fresh-list")
	for name, content := range map[string]string{
		"nothing-valid.csv": "not an address\nnor this\n",
		"shrunk.csv":        "a@x.example\n", // removes half the list
	} {
		resp, body := r.upload(adminUser, "fresh-list", name, content, true)
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("%s: %d\n%s", name, resp.StatusCode, body)
		}
		body = r.follow(adminUser, resp.Header.Get("Location"))
		mustContain(t, body, "refused: nothing was changed", "The file was refused for what it holds")
		if _, v, _ := r.st.List(ctx, "fresh-list"); v.ID != before.ID {
			t.Errorf("%s: a refused import put version %s in force", name, v.ID)
		}
	}
	if evs, _ := r.led.Audits(ctx, ledger.AuditQuery{Action: ledger.ActListImport}); len(evs) != 0 {
		t.Errorf("refused imports were audited as imports: %+v", evs)
	}
}

func TestUploadRolesAndLimits(t *testing.T) {
	r := newReview(t)
	r.fourLists()
	if resp, _ := r.upload(managerUser, "fresh-list", "x.csv", "z@x.example\n", true); resp.StatusCode != http.StatusForbidden {
		t.Errorf("a manager's upload: %d, want 403", resp.StatusCode)
	}
	if resp, _ := r.upload(adminUser, "fresh-list", "x.csv", "z@x.example\n", false); resp.StatusCode != http.StatusForbidden {
		t.Errorf("an upload without CSRF token: %d, want 403", resp.StatusCode)
	}
	if resp, body := r.upload(adminUser, "nosuch", "x.csv", "z@x.example\n", true); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("an upload to no list: %d, want 400\n%s", resp.StatusCode, body)
	}
	r.c.o.MaxUpload = 10
	resp, body := r.upload(adminUser, "fresh-list", "big.csv", strings.Repeat("z@x.example\n", 5), true)
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("a file over the limit: %d, want 413\n%s", resp.StatusCode, body)
	}
	if code, _ := r.get(adminUser, JobPath+"nosuch"); code != http.StatusNotFound {
		t.Errorf("an unknown job: %d, want 404", code)
	}
}
