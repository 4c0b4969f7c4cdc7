// Package checkapi is the recipient check over HTTP, for a CRM or a
// sequencing tool that cleans a prospect list before a campaign: the same
// decision the gateway makes at RCPT, for a batch of addresses, to users
// who log in with their dncgate account.
package checkapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"strconv"
	"time"

	"github.com/dncgate/dncgate/auth"
	"github.com/dncgate/dncgate/internal/ratelimit"
	"github.com/dncgate/dncgate/suppression"
)

// Path is where the handler is mounted.
const Path = "/api/v1/check"

// Limits on one request: enough for a page of a CRM's prospect list, small
// enough that one request cannot hold the store for long.
const (
	maxBody       = 256 << 10
	maxRecipients = 1000
	checkTimeout  = 20 * time.Second
)

// Decider is the recipient check.
type Decider interface {
	Decide(ctx context.Context, sender, rcpt string, now time.Time) (suppression.Verdict, error)
}

// Authenticator checks logins (package auth): the API shares its
// lock-out with SMTP AUTH and every other door of the gateway.
type Authenticator interface {
	Login(ctx context.Context, a auth.Attempt) auth.Result
}

// Options configure the handler.
type Options struct {
	Check         Decider
	Login         Authenticator
	RatePerMinute int // requests per client IP; default 120
	// TrustedProxies are the proxies whose X-Forwarded-For names the
	// client; none when empty.
	TrustedProxies []netip.Prefix
	Now            func() time.Time // default time.Now
	Log            *slog.Logger
}

// handler serves Path.
type handler struct {
	o        Options
	requests *ratelimit.Limiter
}

const defaultRate = 120

// New returns the handler for Path.
func New(o Options) (http.Handler, error) {
	if o.Check == nil || o.Login == nil || o.Log == nil {
		return nil, errors.New("checkapi: a check, an authenticator and a logger are needed")
	}
	if o.RatePerMinute <= 0 {
		o.RatePerMinute = defaultRate
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &handler{o: o, requests: ratelimit.New(o.RatePerMinute, time.Minute)}, nil
}

// request is the JSON a client posts.
type request struct {
	From       string   `json:"from"`
	Recipients []string `json:"recipients"`
}

// result is one recipient's verdict.
type result struct {
	Address string `json:"address"`
	Verdict string `json:"verdict"` // allowed, refused or tempfail
	Code    string `json:"code"`
	Reason  string `json:"reason,omitempty"`
	List    string `json:"list,omitempty"`
	Version string `json:"version,omitempty"`
	KeyKind string `json:"key_kind,omitempty"`
	Country string `json:"country,omitempty"`
	Type    string `json:"type,omitempty"`
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		fail(w, http.StatusMethodNotAllowed, "use POST")
		return
	}
	client := ratelimit.ClientKey(r, h.o.TrustedProxies)
	if wait, ok := h.requests.Allow(client, h.o.Now()); !ok {
		tooMany(w, wait)
		return
	}
	user, ok := h.login(w, r)
	if !ok {
		return
	}
	req, err := readRequest(w, r)
	if err != nil {
		fail(w, statusOf(err), err.Error())
		return
	}
	if req.From == "" {
		req.From = user
	}
	h.answer(w, r.Context(), user, req)
}

// login checks HTTP Basic credentials through the shared Authenticator.
func (h *handler) login(w http.ResponseWriter, r *http.Request) (string, bool) {
	u, ok := Guard{Login: h.o.Login, TrustedProxies: h.o.TrustedProxies, Log: h.o.Log, Name: "check api"}.Admit(w, r)
	return u.Email, ok
}

// errTooLarge marks a body over maxBody.
var errTooLarge = errors.New("request body larger than 256 KiB")

func statusOf(err error) int {
	if errors.Is(err, errTooLarge) {
		return http.StatusRequestEntityTooLarge
	}
	return http.StatusBadRequest
}

// readRequest decodes the body strictly: unknown fields and trailing data
// are mistakes worth telling the integrator about.
func readRequest(w http.ResponseWriter, r *http.Request) (request, error) {
	var req request
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return req, errTooLarge
		}
		return req, fmt.Errorf("body: %v; want {\"recipients\": [\"a@example.com\", …], \"from\": \"optional sender\"}", err)
	}
	if dec.More() {
		return req, errors.New("body: more than one JSON value")
	}
	switch n := len(req.Recipients); {
	case n == 0:
		return req, errors.New("recipients: empty; give at least one address")
	case n > maxRecipients:
		return req, fmt.Errorf("recipients: %d addresses; at most %d per request", n, maxRecipients)
	}
	return req, nil
}

// answer decides every recipient. A store failure fails the whole request
// with 503: a partial answer could pass for a complete one.
func (h *handler) answer(w http.ResponseWriter, ctx context.Context, user string, req request) {
	ctx, cancel := context.WithTimeout(ctx, checkTimeout)
	defer cancel()
	out := make([]result, 0, len(req.Recipients))
	for i, addr := range req.Recipients {
		v, err := h.o.Check.Decide(ctx, req.From, addr, h.o.Now())
		if err != nil {
			h.o.Log.Error("check api: store failure", "user", user, "err", err.Error())
			w.Header().Set("Retry-After", "30")
			fail(w, http.StatusServiceUnavailable, "recipients["+strconv.Itoa(i)+"]: the check could not be made; try again later")
			return
		}
		out = append(out, toResult(addr, v))
	}
	h.o.Log.Info("check api", "user", user, "recipients", len(out))
	writeJSON(w, http.StatusOK, map[string]any{"results": out})
}

func toResult(addr string, v suppression.Verdict) result {
	return result{
		Address: addr, Verdict: v.Outcome.String(), Code: v.Code, Reason: v.Text,
		List: v.List, Version: v.Version, KeyKind: v.KeyKind, Country: v.Country.String(), Type: string(v.Type),
	}
}

func tooMany(w http.ResponseWriter, wait time.Duration) {
	w.Header().Set("Retry-After", strconv.Itoa(int(wait.Seconds())+1))
	fail(w, http.StatusTooManyRequests, "too many requests; slow down")
}

func fail(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, map[string]string{"error": msg})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v) // the client may be gone; nothing to do then
}
