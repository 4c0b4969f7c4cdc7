package console

import (
	"context"
	"github.com/dncgate/dncgate/webhook"
	"net/http"
	"strconv"
	"strings"

	"github.com/dncgate/dncgate/ledger"
	"github.com/dncgate/dncgate/lists"
	"github.com/dncgate/dncgate/store"
	"github.com/dncgate/dncgate/suppression"
)

// Paths of the opt-out pages.
const (
	OptOutsPath = Prefix + "optouts"
	ErasePath   = Prefix + "optouts/erase"
)

type optoutData struct {
	Address  string // as typed, shown back in the form only
	Masked   string
	Reason   string // the erasure's, carried to its confirmation
	Searched bool
	Out      bool
	History  []ledger.AuditEvent
	Problem  string
	Done     string
	CanErase bool
	Confirm  bool // the erasure's confirmation step
}

func (c *Console) optOuts() *suppression.OptOuts {
	return suppression.NewOptOuts(c.o.Lists, c.o.DigestKey)
}

// optoutPage searches one address: opted out or not, and the opt-outs
// and erasures the audit trail holds for it, newest first.
func (c *Console) optoutPage(rq *Request) {
	c.renderOptout(rq, http.StatusOK, strings.TrimSpace(rq.R.URL.Query().Get("address")), "", "")
}

func (c *Console) renderOptout(rq *Request, status int, addr, problem, done string) {
	data := optoutData{Address: addr, Problem: problem, Done: done, CanErase: c.o.Erasure != nil && Allows(rq.User.Role, store.RoleAdmin)}
	if addr == "" {
		rq.RenderStatus(status, data)
		return
	}
	norm, err := lists.NormaliseEmail(addr)
	if err != nil {
		data.Problem = rq.T("optout.bad", err.Error())
		rq.RenderStatus(http.StatusBadRequest, data)
		return
	}
	ctx, cancel := context.WithTimeout(rq.R.Context(), listsTimeout)
	defer cancel()
	data.Searched, data.Masked = true, lists.MaskEmail(norm)
	if data.Out, err = c.optOuts().IsOptedOut(ctx, norm); err != nil {
		c.unavailable(rq, "opt-out", err)
		return
	}
	if c.o.Ledger != nil {
		d := ledger.RcptDigest(c.o.DigestKey, norm)
		if data.History, err = c.o.Ledger.Audits(ctx, ledger.AuditQuery{Digest: &d, Limit: ledger.MaxLimit}); err != nil {
			c.unavailable(rq, "opt-out history", err)
			return
		}
	}
	rq.RenderStatus(status, data)
}

// optoutAdd opts an address out by hand, with the reason, and records who
// in the audit trail, as optout add does.
func (c *Console) optoutAdd(rq *Request) {
	addr, reason := strings.TrimSpace(rq.R.PostFormValue("address")), strings.TrimSpace(rq.R.PostFormValue("reason"))
	norm, err := lists.NormaliseEmail(addr)
	switch {
	case err != nil:
		c.renderOptout(rq, http.StatusBadRequest, "", rq.T("optout.bad", err.Error()), "")
		return
	case reason == "":
		c.renderOptout(rq, http.StatusBadRequest, addr, rq.T("optout.noreason"), "")
		return
	}
	ctx, cancel := context.WithTimeout(rq.R.Context(), listsTimeout)
	defer cancel()
	if err := c.notifyCRM(ctx, webhook.OptOut, norm, rq.User.Email); err != nil {
		c.unavailable(rq, "opt-out", err)
		return
	}
	if err := c.optOuts().OptOut(ctx, norm); err != nil {
		c.unavailable(rq, "opt-out", err)
		return
	}
	d := ledger.RcptDigest(c.o.DigestKey, norm)
	c.o.Log.Info("console: opted out by hand", "rcpt", lists.MaskEmail(norm), "by", rq.User.Email, "reason", reason)
	if err := c.auditChange(ctx, ledger.AuditEvent{At: c.o.Now(), Actor: rq.User.Email, Action: ledger.ActOptOut,
		Digest: &d, Source: ledger.SourceConsole, Reason: reason}); err != nil {
		c.o.Log.Error("console: opt-out not audited", "err", err)
		c.renderOptout(rq, http.StatusInternalServerError, addr, rq.T("optout.unaudited"), "")
		return
	}
	c.renderOptout(rq, http.StatusOK, addr, "", rq.T("optout.added", lists.MaskEmail(norm)))
}

// optoutErase answers an erasure request in two steps: the first shows
// what will happen and asks to confirm, the second (confirm=yes) erases,
// as optout erase does, and records the erasure without the address.
func (c *Console) optoutErase(rq *Request) {
	addr, reason := strings.TrimSpace(rq.R.PostFormValue("address")), strings.TrimSpace(rq.R.PostFormValue("reason"))
	norm, err := lists.NormaliseEmail(addr)
	switch {
	case c.o.Erasure == nil || c.o.Ledger == nil:
		rq.Fail(http.StatusNotFound, "error.notfound")
		return
	case err != nil:
		c.renderOptout(rq, http.StatusBadRequest, "", rq.T("optout.bad", err.Error()), "")
		return
	case reason == "":
		c.renderOptout(rq, http.StatusBadRequest, addr, rq.T("optout.noreason"), "")
		return
	case rq.R.PostFormValue("confirm") != "yes":
		rq.Render(optoutData{Address: addr, Masked: lists.MaskEmail(norm), Reason: reason, Confirm: true, CanErase: true})
		return
	}
	ctx, cancel := context.WithTimeout(rq.R.Context(), listsTimeout)
	defer cancel()
	if err := c.notifyCRM(ctx, webhook.Erasure, norm, rq.User.Email); err != nil {
		c.unavailable(rq, "erasure", err)
		return
	}
	done, err := c.o.Erasure.Erase(ctx, norm)
	if err != nil {
		c.unavailable(rq, "erasure", err)
		return
	}
	er, err := c.o.Ledger.Erase(ctx, ledger.RcptDigest(c.o.DigestKey, norm))
	if err == nil {
		err = c.auditChange(ctx, ledger.AuditEvent{At: c.o.Now(), Actor: rq.User.Email, Action: ledger.ActErase, Source: ledger.SourceConsole,
			Reason: reason, Details: map[string]string{
				"decisions_anonymised": strconv.FormatInt(er.Anonymised, 10),
				"refusals_deleted":     strconv.FormatInt(er.Deleted, 10)}})
	}
	if err != nil {
		c.o.Log.Error("console: erasure: the ledger", "err", err)
		c.renderOptout(rq, http.StatusInternalServerError, "", rq.T("optout.eraseledger"), "")
		return
	}
	c.o.Log.Info("console: erased on request", "rcpt", lists.MaskEmail(norm), "by", rq.User.Email, "contact", done.Contact,
		"cap_counts_reset", done.CapCounts, "ledger_refusals_deleted", er.Deleted, "ledger_decisions_anonymised", er.Anonymised)
	c.renderOptout(rq, http.StatusOK, "", "", rq.T("optout.erased", lists.MaskEmail(norm), string(done.Contact), done.CapCounts, er.Deleted, er.Anonymised))
}

// notifyCRM queues the CRM's webhook event, when webhooks are configured.
func (c *Console) notifyCRM(ctx context.Context, typ webhook.Type, addr, actor string) error {
	if c.o.CRM == nil {
		return nil
	}
	return c.o.CRM(ctx, typ, addr, actor)
}
