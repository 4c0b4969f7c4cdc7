package optoutapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"unicode"

	"github.com/dncgate/dncgate/checkapi"
	"github.com/dncgate/dncgate/ledger"
	"github.com/dncgate/dncgate/lists"
	"github.com/dncgate/dncgate/store"
	"github.com/dncgate/dncgate/webhook"
)

// request is the JSON a client posts.
type request struct {
	Address string `json:"address"`
	Reason  string `json:"reason"`
}

// reply answers a POST.
type reply struct {
	Address  string `json:"address"`
	OptedOut bool   `json:"opted_out"`
	// Created is false when the address was already opted out: the
	// request is then a no-op, so a CRM may repeat it freely.
	Created bool   `json:"created"`
	EventID string `json:"event_id,omitempty"`
}

func (h *handler) post(ctx context.Context, w http.ResponseWriter, r *http.Request, user store.User) {
	if !mayRecord(user) {
		checkapi.Fail(w, http.StatusForbidden, fmt.Sprintf("role %s may not record opt-outs; an admin or manager may", user.Role))
		return
	}
	req, err := readRequest(w, r)
	if err != nil {
		code := http.StatusBadRequest
		if errors.Is(err, errTooLarge) {
			code = http.StatusRequestEntityTooLarge
		}
		checkapi.Fail(w, code, err.Error())
		return
	}
	already, err := h.o.OptOuts.IsOptedOut(ctx, req.Address)
	if err != nil {
		h.unavailable(w, user, "reading the opt-out list", err)
		return
	}
	if already {
		checkapi.WriteJSON(w, http.StatusOK, reply{Address: req.Address, OptedOut: true})
		return
	}
	ev, err := h.record(ctx, user, req)
	if err != nil {
		h.unavailable(w, user, "recording the opt-out", err)
		return
	}
	h.o.Log.Info("opt-out api: opted out", "user", user.Email, "rcpt", lists.MaskEmail(req.Address), "event", ev)
	checkapi.WriteJSON(w, http.StatusCreated, reply{Address: req.Address, OptedOut: true, Created: true, EventID: ev})
}

// record queues the CRM's event first, then opts the address out, then
// writes the trail. In that order a failure never leaves an opt-out the
// webhooks will not tell: a failed opt-out after a queued event answers
// 503, and the client's repeat records it (the CRM may hear of it twice).
// A trail that cannot be written is logged: the opt-out stands.
func (h *handler) record(ctx context.Context, user store.User, req request) (string, error) {
	d := h.digest(req.Address)
	now := h.o.Now()
	ev := webhook.Event{ID: webhook.NewID(), Type: webhook.OptOut, At: now, Address: req.Address,
		Digest: hexDigest(d), Source: string(ledger.SourceAPI), Actor: user.Email}
	if h.o.Notify != nil {
		if err := h.o.Notify.Notify(ctx, ev); err != nil {
			return "", err
		}
	}
	if err := h.o.OptOuts.OptOut(ctx, req.Address); err != nil {
		return "", err
	}
	err := h.o.Trail.Audit(ctx, ledger.AuditEvent{At: now, Actor: user.Email, Action: ledger.ActOptOut,
		Digest: &d, Source: ledger.SourceAPI, Reason: req.Reason})
	if err != nil {
		h.o.Log.Error("opt-out api: the opt-out is recorded but not its audit event", "rcpt", lists.MaskEmail(req.Address), "err", err.Error())
	}
	return ev.ID, nil
}

func (h *handler) unavailable(w http.ResponseWriter, user store.User, what string, err error) {
	h.o.Log.Error("opt-out api: "+what, "user", user.Email, "err", err.Error())
	w.Header().Set("Retry-After", "30")
	checkapi.Fail(w, http.StatusServiceUnavailable, what+" failed; nothing is lost by repeating the request later")
}

var errTooLarge = errors.New("request body larger than 4 KiB")

// readRequest decodes the body strictly and checks each field.
func readRequest(w http.ResponseWriter, r *http.Request) (request, error) {
	var req request
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return req, errTooLarge
		}
		return req, fmt.Errorf(`body: %v; want {"address": "a@example.com", "reason": "why"}`, err)
	}
	if dec.More() {
		return req, errors.New("body: more than one JSON value")
	}
	req.Address = strings.TrimSpace(req.Address)
	if err := checkAddress("address", req.Address); err != nil {
		return req, err
	}
	req.Reason = strings.TrimSpace(req.Reason)
	switch {
	case req.Reason == "":
		return req, errors.New("reason: required (what the person asked, where)")
	case len(req.Reason) > maxReason:
		return req, fmt.Errorf("reason: %d bytes; at most %d", len(req.Reason), maxReason)
	case strings.IndexFunc(req.Reason, unicode.IsControl) >= 0:
		return req, errors.New("reason: control characters (line breaks, tabs) are not allowed")
	}
	return req, nil
}
