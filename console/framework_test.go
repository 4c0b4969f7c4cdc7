package console_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/dncgate/dncgate/console"
	"github.com/dncgate/dncgate/store"
)

var extraFiles = fstest.MapFS{"extra.html.tmpl": {Data: []byte(
	`{{define "title"}}Extra{{end}}{{define "content"}}<p>{{.Data}} for {{.User.Email}}</p><form method="post" action="/console/extra">{{.CSRFField}}</form>{{end}}`)}}

// TestPageFromOutside: a page defined outside the package gets the
// layout, the menu for its role, the login and role checks and the CSRF
// check, and the banner slot.
func TestPageFromOutside(t *testing.T) {
	posted := 0
	e := newEnv(t, func(o *console.Options) {
		o.Pages = []console.Page{
			{Pattern: "GET /console/extra", Role: store.RoleManager, Nav: "nav.log", Template: "extra.html.tmpl", Files: extraFiles,
				Serve: func(rq *console.Request) {
					rq.AddBanner("warn", "a <b>notice</b>")
					rq.Render("hello")
				}},
			{Pattern: "POST /console/extra", Role: store.RoleManager, Serve: func(rq *console.Request) { posted++; rq.Redirect("/console/extra") }},
		}
		o.Banners = func(_ context.Context, u store.User) []console.Banner {
			return []console.Banner{{Kind: "error", Text: "the list fr-bloctel is stale"}}
		}
	})
	r := e.browser()
	r.logIn(rep)
	if a := r.get("/console/extra"); a.Status != http.StatusForbidden {
		t.Fatalf("rep opens a manager's page: %d", a.Status)
	}
	if strings.Count(r.get(console.HomePath).Body, `href="/console/extra"`) != 0 {
		t.Errorf("the rep's menu shows a manager's page")
	}
	m := e.browser()
	m.logIn(mgr)
	a := m.get("/console/extra")
	for _, want := range []string{"<p>hello for " + mgr + "</p>", `class="banner banner-warn"`, "a &lt;b&gt;notice&lt;/b&gt;", `role="alert">the list fr-bloctel is stale`, `href="/console/extra" aria-current="page"`, `<html lang="en">`} {
		if !strings.Contains(a.Body, want) {
			t.Errorf("extra page lacks %q\n%s", want, a.Body)
		}
	}
	if a := m.post("/console/extra", url.Values{"csrf": {"nope"}}); a.Status != http.StatusForbidden || posted != 0 {
		t.Fatalf("POST without the token: %d, served %d times", a.Status, posted)
	}
	m.get("/console/extra")
	if a := m.post("/console/extra", nil); a.Status != http.StatusSeeOther || posted != 1 {
		t.Fatalf("POST with the token: %d, served %d times", a.Status, posted)
	}
}

// TestBadPages: a page the framework cannot serve safely is refused at New.
func TestBadPages(t *testing.T) {
	e := newEnv(t)
	serve := func(*console.Request) {}
	for name, p := range map[string]console.Page{
		"no role":              {Pattern: "GET /console/x", Serve: serve},
		"outside the console":  {Pattern: "GET /admin/x", Role: store.RoleRep, Serve: serve},
		"no serve":             {Pattern: "GET /console/x", Role: store.RoleRep},
		"menu with a wildcard": {Pattern: "GET /console/x/{id}", Role: store.RoleRep, Nav: "nav.log", Serve: serve},
		"missing template":     {Pattern: "GET /console/x", Role: store.RoleRep, Template: "nope.html.tmpl", Files: extraFiles, Serve: serve},
	} {
		_, err := console.New(console.Options{Users: e.st, Sessions: e.st, Login: e.login, Audit: e.led,
			Log: slog.New(slog.DiscardHandler), Pages: []console.Page{p}})
		if err == nil {
			t.Errorf("%s: New accepted %+v", name, p)
		}
	}
	if _, err := console.New(console.Options{Users: e.st, Sessions: e.st, Login: e.login, Audit: e.led,
		Log: slog.New(slog.DiscardHandler), Idle: 2 * time.Hour, Max: time.Hour}); err == nil {
		t.Errorf("New accepted an idle expiry longer than the absolute one")
	}
}

// TestCompanyAndLogo: the configured name (escaped) and logo head every
// page; the stylesheet and the logo are served, cacheable, with their types.
func TestCompanyAndLogo(t *testing.T) {
	logo := []byte("\x89PNG\r\n\x1a\nnot really a png")
	e := newEnv(t, func(o *console.Options) { o.Logo, o.LogoType = logo, "image/png" })
	b := e.browser()
	a := b.get(console.LoginPath)
	if !strings.Contains(a.Body, `<img src="/console/static/logo" alt="" class="logo"><span>ACME &lt;Sales&gt; &amp; Co</span>`) {
		t.Fatalf("login page header:\n%s", a.Body)
	}
	for path, ctype := range map[string]string{console.LogoPath: "image/png", "/console/static/console.css": "text/css; charset=utf-8"} {
		a := b.get(path)
		if a.Status != http.StatusOK || a.Header.Get("Content-Type") != ctype || a.Header.Get("Cache-Control") != "private, max-age=3600" {
			t.Errorf("GET %s: %d %q %q", path, a.Status, a.Header.Get("Content-Type"), a.Header.Get("Cache-Control"))
		}
	}
	if a := b.get(console.LogoPath); a.Body != string(logo) {
		t.Errorf("logo bytes differ")
	}
	if a := b.get("/console/static/nope.js"); a.Status != http.StatusNotFound {
		t.Errorf("unknown static file: %d", a.Status)
	}
	plain := newEnv(t)
	if a := plain.browser().get(console.LogoPath); a.Status != http.StatusNotFound {
		t.Errorf("logo without one configured: %d", a.Status)
	}
}
