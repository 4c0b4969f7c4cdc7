package optoutapi

import (
	"context"
	"net/http"
	"time"

	"github.com/dncgate/dncgate/checkapi"
	"github.com/dncgate/dncgate/ledger"
	"github.com/dncgate/dncgate/store"
)

// status answers a GET: whether the address is opted out, since when
// (the oldest opt-out in the trail), and the trail's events about it,
// newest first. Every role may ask: a rep may not write to someone
// opted out, so may know it.
type status struct {
	Address  string     `json:"address"`
	OptedOut bool       `json:"opted_out"`
	Since    *time.Time `json:"since,omitempty"`
	History  []event    `json:"history"`
}

type event struct {
	Time   time.Time `json:"time"`
	Action string    `json:"action"`
	Source string    `json:"source,omitempty"`
	By     string    `json:"by"`
	Reason string    `json:"reason,omitempty"`
}

func (h *handler) get(ctx context.Context, w http.ResponseWriter, user store.User, raw string) {
	addr, err := unescape(raw)
	if err == nil {
		err = checkAddress("address", addr)
	}
	if err != nil {
		checkapi.Fail(w, http.StatusBadRequest, err.Error())
		return
	}
	out, err := h.o.OptOuts.IsOptedOut(ctx, addr)
	if err != nil {
		h.unavailable(w, user, "reading the opt-out list", err)
		return
	}
	d := h.digest(addr)
	evs, err := h.o.Trail.Audits(ctx, ledger.AuditQuery{Digest: &d, Limit: ledger.MaxLimit})
	if err != nil {
		h.unavailable(w, user, "reading the audit trail", err)
		return
	}
	st := status{Address: addr, OptedOut: out, History: []event{}}
	for _, e := range evs {
		st.History = append(st.History, event{Time: e.At.UTC(), Action: string(e.Action), Source: string(e.Source), By: e.Actor, Reason: e.Reason})
		if out && e.Action == ledger.ActOptOut {
			t := e.At.UTC()
			st.Since = &t // newest first: the last one set is the oldest
		}
	}
	checkapi.WriteJSON(w, http.StatusOK, st)
}
