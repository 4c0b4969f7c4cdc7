package console

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"strings"
	"time"

	"github.com/dncgate/dncgate/store"
)

//go:embed templates/*.html.tmpl
var templateFS embed.FS

// Page is one screen of the console.
type Page struct {
	// Pattern is its net/http.ServeMux pattern, method and path below
	// Prefix: "GET /console/log", "POST /console/users/{email}/reset".
	Pattern string
	// Role is the least role that may open it; Public pages need no login.
	Role   store.Role
	Public bool
	// Step, when set, is the pending login step this page completes (a
	// half-logged-in session reaches only the page of its step).
	Step string
	// Nav is the message key of its entry in the menu, "" for none; only
	// a GET pattern without wildcards can have one.
	Nav string
	// Template is the file defining "title" and "content", read from
	// Files (this package's templates/ when nil); "" for a page that
	// only redirects or streams.
	Template string
	Files    fs.FS
	Serve    func(rq *Request)
}

// page is a Page with its parsed template.
type page struct {
	Page
	t    *template.Template
	path string // the path of a menu entry
}

// roleRank orders the roles: each may do what the ones below it may.
func roleRank(r store.Role) int {
	switch r {
	case store.RoleRep:
		return 1
	case store.RoleManager:
		return 2
	case store.RoleAdmin:
		return 3
	}
	return 0
}

// Allows reports whether a user of role have may open what needs role need.
func Allows(have, need store.Role) bool {
	return roleRank(have) >= roleRank(need) && roleRank(have) > 0
}

func (c *Console) parse(p Page) (*page, error) {
	method, path, ok := strings.Cut(p.Pattern, " ")
	if !ok || !strings.HasPrefix(path, Prefix) || p.Serve == nil {
		return nil, fmt.Errorf("console: page %q: a pattern \"METHOD %s...\" and a Serve func are needed", p.Pattern, Prefix)
	}
	if !p.Public && roleRank(p.Role) == 0 {
		return nil, fmt.Errorf("console: page %q: no role (rep, manager, admin) and not public", p.Pattern)
	}
	pg := &page{Page: p}
	if p.Nav != "" {
		if method != http.MethodGet || strings.Contains(path, "{") {
			return nil, fmt.Errorf("console: page %q: only a plain GET page can be in the menu", p.Pattern)
		}
		pg.path = path
	}
	if p.Template == "" {
		return pg, nil
	}
	files := p.Files
	name := p.Template
	if files == nil {
		files, name = templateFS, "templates/"+p.Template
	}
	t, err := template.Must(c.base.Clone()).ParseFS(files, name)
	if err != nil {
		return nil, fmt.Errorf("console: page %q: %w", p.Pattern, err)
	}
	for _, def := range []string{"title", "content"} {
		if t.Lookup(def) == nil {
			return nil, fmt.Errorf("console: page %q: %s defines no %q", p.Pattern, p.Template, def)
		}
	}
	pg.t = t
	return pg, nil
}

// templateFuncs are the functions every template may call.
var templateFuncs = template.FuncMap{
	// stamp writes a time the same way on every page, in UTC.
	"stamp": func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format("2006-01-02 15:04:05 UTC")
	},
}

// Banner is a notice shown above a page's content.
type Banner struct {
	Kind string // "info", "warn" or "error": its style
	Text string
}

// NavItem is one entry of the menu.
type NavItem struct {
	Path, Label string
	Current     bool
}

// View is what the layout and every page template see.
type View struct {
	Lang     string
	Company  string
	HasLogo  bool
	LoggedIn bool
	User     store.User
	Nav      []NavItem
	Banners  []Banner
	CSRF     string
	Status   int
	Error    string // the message of an error page
	Data     any    // the page's own value
	msgs     catalog
}

// T is the message key in the page's language; args fill its %s/%d verbs.
func (v *View) T(key string, args ...any) string { return v.msgs.text(key, args...) }

// CSRFField is the hidden input every form of a logged-in page carries.
func (v *View) CSRFField() template.HTML {
	return template.HTML(`<input type="hidden" name="` + csrfField + `" value="` + template.HTMLEscapeString(v.CSRF) + `">`)
}

// Request is one request to a page, once the login, the role and the CSRF
// token have been checked.
type Request struct {
	W       http.ResponseWriter
	R       *http.Request
	User    store.User    // zero on a public page without a session
	Session store.Session // likewise
	Lang    string
	c       *Console
	page    *page
	banners []Banner
}

// T is a message in the reader's language.
func (rq *Request) T(key string, args ...any) string { return rq.c.msgs[rq.Lang].text(key, args...) }

// AddBanner shows a notice above the page about to be rendered.
func (rq *Request) AddBanner(kind, text string) {
	rq.banners = append(rq.banners, Banner{Kind: kind, Text: text})
}

// Render writes the page's template with data, 200 OK.
func (rq *Request) Render(data any) { rq.RenderStatus(http.StatusOK, data) }

// RenderStatus writes the page's template with data and status.
func (rq *Request) RenderStatus(status int, data any) {
	if rq.page == nil || rq.page.t == nil {
		rq.c.o.Log.Error("console: page has no template", "pattern", rq.patternName())
		rq.Fail(http.StatusInternalServerError, "error.internal")
		return
	}
	rq.write(rq.page.t, status, data, "")
}

// Fail answers status with the message key on the error page.
func (rq *Request) Fail(status int, key string, args ...any) {
	rq.write(rq.c.errorPage.t, status, nil, rq.T(key, args...))
}

// Redirect sends the browser to path with 303 See Other.
func (rq *Request) Redirect(path string) { http.Redirect(rq.W, rq.R, path, http.StatusSeeOther) }

// Client is the client's address, as the trusted proxies tell it.
func (rq *Request) Client() string { return clientAddr(rq.R, rq.c.o.TrustedProxies).String() }

func (rq *Request) patternName() string {
	if rq.page == nil {
		return ""
	}
	return rq.page.Pattern
}

func (rq *Request) write(t *template.Template, status int, data any, errText string) {
	v := rq.view(status, data, errText)
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", v); err != nil {
		rq.c.o.Log.Error("console: rendering", "page", rq.patternName(), "err", err)
		rq.W.Header().Set("Content-Type", "text/plain; charset=utf-8")
		rq.W.WriteHeader(http.StatusInternalServerError)
		fmt.Fprintln(rq.W, http.StatusText(http.StatusInternalServerError))
		return
	}
	rq.W.Header().Set("Content-Type", "text/html; charset=utf-8")
	rq.W.Header().Set("Content-Language", rq.Lang)
	rq.W.WriteHeader(status)
	rq.W.Write(buf.Bytes())
}

func (rq *Request) view(status int, data any, errText string) *View {
	v := &View{Lang: rq.Lang, Company: rq.c.o.Company, HasLogo: len(rq.c.o.Logo) > 0, Status: status,
		Error: errText, Data: data, msgs: rq.c.msgs[rq.Lang], Banners: rq.banners}
	if rq.Session.ID != "" {
		v.CSRF = rq.Session.CSRF
		if rq.Session.Pending == "" {
			v.LoggedIn, v.User = true, rq.User
			v.Nav = rq.c.navFor(rq.User.Role, rq.R.URL.Path, v.msgs)
		}
	}
	if v.LoggedIn && rq.c.o.Lists != nil {
		v.Banners = append(rq.listBanners(), v.Banners...)
	}
	if c := rq.c.o.Banners; c != nil && v.LoggedIn {
		v.Banners = append(c(rq.R.Context(), rq.User), v.Banners...)
	}
	return v
}

func (c *Console) navFor(role store.Role, current string, msgs catalog) []NavItem {
	var items []NavItem
	for _, p := range c.nav {
		if Allows(role, p.Role) {
			items = append(items, NavItem{Path: p.path, Label: msgs.text(p.Nav), Current: p.path == current})
		}
	}
	return items
}
