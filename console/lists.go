package console

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/dncgate/dncgate/ledger"
	"github.com/dncgate/dncgate/listdb"
	"github.com/dncgate/dncgate/store"
)

// ListStore is the lists the pages show, roll back and import into: a
// listdb.Store that counts its entries by hand, as both stores do.
type ListStore interface {
	listdb.Store
	listdb.ManualCounter
}

// Paths of the lists pages.
const (
	ListsPath = Prefix + "lists"
	ListPath  = Prefix + "lists/" // + NAME
)

// manualShown is how many decisions by hand a list's page shows.
const manualShown = 50

// dueSoon is how long before it goes stale a list is announced.
const dueSoon = 24 * time.Hour

// listsTimeout bounds the store reads of one page.
const listsTimeout = 10 * time.Second

// listRow is one list as the pages show it.
type listRow struct {
	listdb.Info
	Manual    listdb.Manual
	Fresh     listdb.Freshness
	Age       time.Duration
	DueSoon   bool
	StateText string // the state in words, in the reader's language
	AgeText   string // "3 d 4 h", "–" before an import
	MaxText   string // the allowed age, or that there is none
}

func (c *Console) listRow(rq *Request, in listdb.Info, man listdb.Manual) listRow {
	now := c.o.Now()
	f := listdb.FreshnessOf(in.Meta, in.Current, man, now)
	r := listRow{Info: in, Manual: man, Fresh: f, DueSoon: f.DueWithin(now, dueSoon)}
	r.AgeText, r.MaxText = "–", rq.T("lists.nomaxage")
	if in.Current.ID != "" {
		r.Age = now.Sub(in.Current.ImportedAt)
		r.AgeText = durationText(rq, r.Age)
	}
	if in.Meta.MaxAge > 0 {
		r.MaxText = durationText(rq, in.Meta.MaxAge)
	}
	r.StateText = rq.T("lists.state." + string(f.State))
	switch {
	case f.NeverImported:
		r.StateText += " – " + rq.T("lists.neverimported")
	case r.DueSoon:
		r.StateText += " – " + rq.T("lists.duesoon", stampText(f.Due))
	}
	if f.WarnOnly {
		r.StateText += " – " + rq.T("lists.warnonly")
	}
	return r
}

// durationText writes an age in days and hours ("3 d 4 h"), or hours
// and minutes under a day.
func durationText(rq *Request, d time.Duration) string {
	if d < 0 {
		d = 0
	}
	h := int64(d / time.Hour)
	if h >= 24 {
		return rq.T("lists.days", h/24, h%24)
	}
	return rq.T("lists.hours", h, int64(d/time.Minute)%60)
}

func stampText(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") }

type listsData struct {
	Lists []listRow
}

func (c *Console) listsPage(rq *Request) {
	ctx, cancel := context.WithTimeout(rq.R.Context(), listsTimeout)
	defer cancel()
	infos, err := c.o.Lists.Lists(ctx)
	if err != nil {
		c.unavailable(rq, "lists", err)
		return
	}
	var data listsData
	for _, in := range infos {
		man, err := c.o.Lists.Manual(ctx, in.Meta.Name)
		if err != nil && !errors.Is(err, listdb.ErrNotFound) {
			c.unavailable(rq, "lists", err)
			return
		}
		data.Lists = append(data.Lists, c.listRow(rq, in, man))
	}
	rq.Render(data)
}

type listData struct {
	List    listRow
	History []listdb.VersionInfo
	Changes []listdb.ManualChange
	Admin   bool
	Done    string // the version a rollback just put in force
	Problem string
}

func (c *Console) listPage(rq *Request) {
	c.renderList(rq, rq.R.PathValue("name"), http.StatusOK, rq.R.URL.Query().Get("rolledback"), "")
}

func (c *Console) renderList(rq *Request, name string, status int, done, problem string) {
	ctx, cancel := context.WithTimeout(rq.R.Context(), listsTimeout)
	defer cancel()
	m, v, err := c.o.Lists.List(ctx, name)
	if errors.Is(err, listdb.ErrNotFound) {
		rq.Fail(http.StatusNotFound, "lists.nosuch", name)
		return
	}
	data := listData{Admin: Allows(rq.User.Role, store.RoleAdmin), Done: done, Problem: problem}
	var man listdb.Manual
	if err == nil {
		man, err = c.o.Lists.Manual(ctx, name)
	}
	if err == nil {
		data.History, err = c.o.Lists.History(ctx, name)
	}
	if err == nil {
		data.Changes, err = c.o.Lists.ManualChanges(ctx, name, manualShown)
	}
	if err != nil {
		c.unavailable(rq, "list "+name, err)
		return
	}
	data.List = c.listRow(rq, listdb.Info{Meta: m, Current: v}, man)
	rq.RenderStatus(status, data)
}

// rollback puts a kept version back in force, as lists rollback does, and
// records it in the audit trail; a version not kept changes nothing and
// says which are.
func (c *Console) rollback(rq *Request) {
	name, version := rq.R.PathValue("name"), strings.TrimSpace(rq.R.PostFormValue("version"))
	ctx, cancel := context.WithTimeout(rq.R.Context(), listsTimeout)
	defer cancel()
	sw, err := c.o.Lists.Rollback(ctx, name, version, rq.User.Email, c.o.Now())
	switch {
	case errors.Is(err, listdb.ErrNotFound):
		rq.Fail(http.StatusNotFound, "lists.nosuch", name)
		return
	case errors.Is(err, listdb.ErrNotKept), errors.Is(err, listdb.ErrChanged):
		c.renderList(rq, name, http.StatusConflict, "", rq.T("lists.notrolledback", err.Error()))
		return
	case err != nil:
		c.unavailable(rq, "rollback of "+name, err)
		return
	}
	c.o.Log.Info("console: list rolled back", "list", name, "from", sw.From.ID, "to", sw.To.ID, "by", rq.User.Email)
	if err := c.o.Audit.Audit(ctx, ledger.RollbackEvent(sw, rq.User.Email)); err != nil {
		c.o.Log.Error("console: the rollback is made, but the audit trail lacks it", "list", name, "by", rq.User.Email, "err", err)
		c.renderList(rq, name, http.StatusInternalServerError, sw.To.ID, rq.T("lists.unaudited"))
		return
	}
	rq.Redirect(ListPath + url.PathEscape(name) + "?rolledback=" + url.QueryEscape(sw.To.ID))
}

// unavailable answers 503 when the store does not answer, logging why.
func (c *Console) unavailable(rq *Request, what string, err error) {
	c.o.Log.Error("console: store", "reading", what, "err", err)
	rq.Fail(http.StatusServiceUnavailable, "error.unavailable")
}

// listBanners are the notices every page shows about the lists: one for
// each list that is stale or goes stale within a day.
func (rq *Request) listBanners() []Banner {
	ctx, cancel := context.WithTimeout(rq.R.Context(), listsTimeout)
	defer cancel()
	infos, err := rq.c.o.Lists.Lists(ctx)
	if err != nil {
		rq.c.o.Log.Error("console: the lists' age for the banner", "err", err)
		return []Banner{{Kind: "error", Text: rq.T("lists.banner.unknown")}}
	}
	now := rq.c.o.Now()
	var out []Banner
	for _, in := range infos {
		f := listdb.FreshnessOf(in.Meta, in.Current, listdb.Manual{}, now)
		switch {
		case f.State == listdb.Stale && f.NeverImported:
			out = append(out, Banner{Kind: "error", Text: rq.T("lists.banner.never", in.Meta.Name)})
		case f.State == listdb.Stale:
			out = append(out, Banner{Kind: "error", Text: rq.T("lists.banner.stale", in.Meta.Name, stampText(f.Due))})
		case f.DueWithin(now, dueSoon):
			out = append(out, Banner{Kind: "warn", Text: rq.T("lists.banner.due", in.Meta.Name, stampText(f.Due))})
		}
	}
	return out
}
