// Package console is the managers' web console: server-rendered pages,
// behind a login with a second factor, where blocked sends are reviewed.
//
// How to add a page, in a file of this package or of another one:
//
//  1. Write its template, templates/NAME.html.tmpl here (or in your own
//     fs.FS, given as Page.Files), defining "title" and "content"; the
//     layout gives it .T "key" (the message in the reader's language),
//     .CSRFField (put it in every form), .User and .Data (your value).
//  2. Put its messages in messages/AREA.en and messages/AREA.fr ("key = text").
//  3. Describe it: Page{Pattern: "GET /console/trends", Role: store.RoleManager,
//     Nav: "nav.trends", Template: "trends.html.tmpl", Serve: func(rq *Request) {...}},
//     and add it to builtinPages (pages.go) or to Options.Pages.
//  4. In Serve, read rq.User and rq.R, then rq.Render(data), rq.Fail(status,
//     "key") or rq.Redirect(path); rq.AddBanner puts a notice in the banner
//     slot (Options.Banners adds notices to every page).
//
// A POST is refused before Serve without the session's CSRF token, and
// nobody below Page.Role reaches Serve: both are checked here, once. A
// rep's queries must still be limited to their own records in Serve.
package console
