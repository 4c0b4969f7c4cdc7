package console

import (
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/dncgate/dncgate/ledger"
	"github.com/dncgate/dncgate/listdb"
)

const day = 24 * time.Hour

func (r *review) fourLists() {
	r.putList("fresh-list", 5*day, time.Hour, "a@x.example", "b@x.example")
	r.putList("stale-list", day, 3*day, "c@x.example")
	r.putList("never-list", day, -1)
	r.putList("due-list", 5*day, 5*day-2*time.Hour, "d@x.example")
}

func TestListsPage(t *testing.T) {
	r := newReview(t)
	r.fourLists()
	code, body := r.get(managerUser, ListsPath)
	if code != http.StatusOK {
		t.Fatalf("lists: %d\n%s", code, body)
	}
	// The state in words and in colour (its class).
	mustContain(t, body, `<span class="state state-fresh">fresh</span>`,
		`<span class="state state-stale">STALE</span>`,
		`<span class="state state-stale">STALE – never imported</span>`,
		`<span class="state state-fresh state-due">fresh – goes stale at `,
		`<a href="/console/lists/fresh-list">fresh-list</a>`, "5 d 0 h", "3 d 0 h")
	// The banner, on this page and every other one.
	for _, path := range []string{ListsPath, TrendsPath, HomePath} {
		_, body := r.get(repUser, path)
		mustContain(t, body, "List stale-list is stale since", "List never-list was never imported",
			"List due-list goes stale at")
		mustNotContain(t, body, "List fresh-list")
	}
}

func TestListsRoles(t *testing.T) {
	r := newReview(t)
	r.fourLists()
	for _, path := range []string{ListsPath, ListPath + "fresh-list", UploadPath} {
		if code, _ := r.get(repUser, path); code != http.StatusForbidden {
			t.Errorf("a rep opens %s: %d, want 403", path, code)
		}
	}
	if code, _ := r.get(managerUser, UploadPath); code != http.StatusForbidden {
		t.Errorf("a manager opens the upload page: %d, want 403", code)
	}
	_, body := r.get(managerUser, ListPath+"fresh-list")
	mustNotContain(t, body, "/rollback")
}

// twoVersions imports a second version of fresh-list: the first is kept.
func (r *review) twoVersions() (first, second listdb.Version) {
	r.t.Helper()
	ctx := context.Background()
	h, _ := r.st.History(ctx, "fresh-list")
	first = h[0].Version
	r.putList("fresh-list", 5*day, 0, "a@x.example", "b@x.example", "e@x.example")
	h, _ = r.st.History(ctx, "fresh-list")
	if len(h) != 2 || !h[0].InForce {
		r.t.Fatalf("history %+v: want the new version in force and one kept", h)
	}
	return first, h[0].Version
}

func TestRollback(t *testing.T) {
	r := newReview(t)
	r.fourLists()
	first, second := r.twoVersions()
	path := ListPath + "fresh-list/rollback"
	form := func() url.Values { return url.Values{"version": {first.ID}} }
	// A manager may not roll back, nor an admin without the form's token.
	if resp, _ := r.post(managerUser, path, form(), true); resp.StatusCode != http.StatusForbidden {
		t.Errorf("a manager's rollback: %d, want 403", resp.StatusCode)
	}
	if resp, _ := r.post(adminUser, path, form(), false); resp.StatusCode != http.StatusForbidden {
		t.Errorf("a rollback without CSRF token: %d, want 403", resp.StatusCode)
	}
	if _, v, _ := r.st.List(context.Background(), "fresh-list"); v.ID != second.ID {
		t.Fatalf("a refused rollback changed the version in force to %s", v.ID)
	}
	_, body := r.get(adminUser, ListPath+"fresh-list")
	mustContain(t, body, `action="/console/lists/fresh-list/rollback"`, "Put version "+first.ID+" back in force")
	resp, _ := r.post(adminUser, path, form(), true)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("rollback: %d, want 303", resp.StatusCode)
	}
	if _, v, _ := r.st.List(context.Background(), "fresh-list"); v.ID != first.ID {
		t.Errorf("after the rollback version %s is in force, want %s", v.ID, first.ID)
	}
	_, body = r.get(adminUser, resp.Header.Get("Location"))
	mustContain(t, body, "Version "+first.ID+" is now in force.")
	evs, err := r.led.Audits(context.Background(), ledger.AuditQuery{Action: ledger.ActListRollback})
	if err != nil || len(evs) != 1 || evs[0].Actor != adminUser || evs[0].Object != "fresh-list" ||
		evs[0].Details["from"] != second.ID || evs[0].Details["to"] != first.ID {
		t.Errorf("audit trail: %+v, %v; want the admin's rollback from %s to %s", evs, err, second.ID, first.ID)
	}
	// A version not kept changes nothing and says which are kept.
	resp, body = r.post(adminUser, path, url.Values{"version": {"999"}}, true)
	if resp.StatusCode != http.StatusConflict {
		t.Errorf("rollback to a version not kept: %d, want 409", resp.StatusCode)
	}
	mustContain(t, body, "Nothing was changed")
	if _, v, _ := r.st.List(context.Background(), "fresh-list"); v.ID != first.ID {
		t.Errorf("a refused rollback changed the version in force to %s", v.ID)
	}
}

// Markup in a list's source and in a decision by hand is shown as text.
func TestListEscapes(t *testing.T) {
	r := newReview(t)
	ctx := context.Background()
	evil := `<script>alert("x")</script>`
	if err := r.st.PutList(ctx, listdb.Meta{Name: "hand", Kind: "email", Model: "deny", Source: evil}); err != nil {
		t.Fatal(err)
	}
	d := listdb.NewDigester(r.key, "email").Digest("p@x.example")
	if err := r.st.ChangeEntry(ctx, "hand", d, listdb.ManualChange{At: r.now, By: evil, Reason: evil, Added: true, Value: "p***@x.example"}); err != nil {
		t.Fatal(err)
	}
	_, body := r.get(managerUser, ListPath+"hand")
	mustNotContain(t, body, "<script>alert")
	mustContain(t, body, "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;", "p***@x.example", "put on")
	if code, _ := r.get(managerUser, ListPath+"nosuch"); code != http.StatusNotFound {
		t.Errorf("an unknown list: %d, want 404", code)
	}
}
