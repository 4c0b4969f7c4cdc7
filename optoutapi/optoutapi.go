// Package optoutapi is the opt-out API for a CRM: record an opt-out a
// person asked for through the CRM, and ask whether an address is opted
// out, since when and how, behind the check API's login.
package optoutapi

import (
	"context"
	"encoding/hex"
	"errors"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/dncgate/dncgate/checkapi"
	"github.com/dncgate/dncgate/internal/ratelimit"
	"github.com/dncgate/dncgate/ledger"
	"github.com/dncgate/dncgate/lists"
	"github.com/dncgate/dncgate/store"
	"github.com/dncgate/dncgate/webhook"
)

// Path is the collection; an address's record is under Path + "/".
const Path = "/api/v1/optouts"

// Limits on one request.
const (
	maxBody     = 4 << 10
	maxAddress  = 254 // RFC 5321 §4.5.3.1.3, the longest path
	maxReason   = 500
	opTimeout   = 10 * time.Second
	defaultRate = 120
)

// OptOuts is the opt-out list (suppression.OptOuts).
type OptOuts interface {
	OptOut(ctx context.Context, addr string) error
	IsOptedOut(ctx context.Context, addr string) (bool, error)
}

// Trail is the audit trail: where an opt-out's who, when and why are
// kept and read back.
type Trail interface {
	Audit(ctx context.Context, e ledger.AuditEvent) error
	Audits(ctx context.Context, q ledger.AuditQuery) ([]ledger.AuditEvent, error)
}

// Notifier queues the CRM's webhook events (webhook.Notifier).
type Notifier interface {
	Notify(ctx context.Context, ev webhook.Event) error
}

// Options configure the handler.
type Options struct {
	OptOuts        OptOuts
	Trail          Trail
	Notify         Notifier // nil: no webhook configured
	Login          checkapi.Authenticator
	Key            []byte // the store's digest key: the trail keys people by it
	TrustedProxies []netip.Prefix
	RatePerMinute  int // requests per client IP; default 120
	Now            func() time.Time
	Log            *slog.Logger
}

type handler struct {
	o        Options
	guard    checkapi.Guard
	requests *ratelimit.Limiter
}

// New returns the handler for Path and Path + "/".
func New(o Options) (http.Handler, error) {
	if o.OptOuts == nil || o.Trail == nil || o.Login == nil || o.Log == nil || len(o.Key) == 0 {
		return nil, errors.New("optoutapi: opt-outs, a trail, an authenticator, the digest key and a logger are needed")
	}
	if o.RatePerMinute <= 0 {
		o.RatePerMinute = defaultRate
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	g := checkapi.Guard{Login: o.Login, TrustedProxies: o.TrustedProxies, Log: o.Log, Name: "opt-out api"}
	return &handler{o: o, guard: g, requests: ratelimit.New(o.RatePerMinute, time.Minute)}, nil
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	addr, one := strings.CutPrefix(r.URL.EscapedPath(), Path+"/")
	allow := http.MethodPost
	if one {
		allow = http.MethodGet
	}
	if r.Method != allow {
		w.Header().Set("Allow", allow)
		checkapi.Fail(w, http.StatusMethodNotAllowed, "use "+allow+" on this path")
		return
	}
	if wait, ok := h.requests.Allow(ratelimit.ClientKey(r, h.o.TrustedProxies), h.o.Now()); !ok {
		checkapi.TooMany(w, wait)
		return
	}
	user, ok := h.guard.Admit(w, r)
	if !ok {
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), opTimeout)
	defer cancel()
	if one {
		h.get(ctx, w, user, addr)
		return
	}
	h.post(ctx, w, r, user)
}

// mayRecord: admins and managers record opt-outs; a rep is refused, so
// that an opt-out in the trail names someone answerable for it (a rep
// asked to stop forwards the request to a manager, or the person uses
// the link in every message).
func mayRecord(u store.User) bool {
	return u.Role == store.RoleAdmin || u.Role == store.RoleManager
}

// checkAddress sanitises an address at the edge: its length, and that it
// has a normalised form (the one the opt-out list and the trail key).
func checkAddress(field, addr string) error {
	switch {
	case addr == "":
		return errors.New(field + ": required")
	case len(addr) > maxAddress:
		return errors.New(field + ": longer than 254 bytes")
	}
	if _, err := lists.NormaliseEmail(addr); err != nil {
		return errors.New(field + ": " + err.Error())
	}
	return nil
}

func (h *handler) digest(addr string) ledger.Digest { return ledger.RcptDigest(h.o.Key, addr) }

func hexDigest(d ledger.Digest) string { return hex.EncodeToString(d[:]) }

func unescape(raw string) (string, error) {
	s, err := url.PathUnescape(raw)
	if err != nil || strings.Contains(s, "/") {
		return "", errors.New("address: the path must end with one address, percent-encoded")
	}
	return s, nil
}
