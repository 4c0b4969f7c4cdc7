package checkapi

import (
	"log/slog"
	"net/http"
	"net/netip"
	"time"

	"github.com/dncgate/dncgate/auth"
	"github.com/dncgate/dncgate/internal/ratelimit"
	"github.com/dncgate/dncgate/store"
)

// Guard is the API's login, for every handler under /api/v1: HTTP Basic
// credentials checked by the shared Authenticator, so a client or user
// locked out at SMTP AUTH or at another endpoint is locked out here too.
type Guard struct {
	Login          Authenticator
	TrustedProxies []netip.Prefix
	Log            *slog.Logger
	Name           string // the endpoint, in log lines
}

// Admit returns the logged-in user, or answers the request (401, 429
// without any password check when locked, 503 when the login could not be
// checked) and returns false.
func (g Guard) Admit(w http.ResponseWriter, r *http.Request) (store.User, bool) {
	name, password, ok := r.BasicAuth()
	if !ok {
		unauthorized(w)
		return store.User{}, false
	}
	res := g.Login.Login(r.Context(), auth.Attempt{User: name, Password: password, Client: ratelimit.ClientAddr(r, g.TrustedProxies)})
	switch res.Outcome {
	case auth.Accepted:
		return res.User, true
	case auth.Locked:
		g.Log.Warn(g.Name+": login locked", "client", ratelimit.ClientKey(r, g.TrustedProxies), "err", res.Cause)
		TooMany(w, res.RetryAfter)
	case auth.Unavailable:
		g.Log.Error(g.Name+": login not checked", "err", res.Cause)
		w.Header().Set("Retry-After", "30")
		Fail(w, http.StatusServiceUnavailable, "the login could not be checked; try again later")
	default:
		g.Log.Warn(g.Name+": login failed", "client", ratelimit.ClientKey(r, g.TrustedProxies), "err", res.Cause)
		unauthorized(w)
	}
	return store.User{}, false
}

// TooMany answers 429 with Retry-After.
func TooMany(w http.ResponseWriter, wait time.Duration) { tooMany(w, wait) }

// Fail answers code with {"error": msg}.
func Fail(w http.ResponseWriter, code int, msg string) { fail(w, code, msg) }

// WriteJSON answers code with v as JSON.
func WriteJSON(w http.ResponseWriter, code int, v any) { writeJSON(w, code, v) }

func unauthorized(w http.ResponseWriter) {
	w.Header().Set("WWW-Authenticate", `Basic realm="dncgate", charset="UTF-8"`)
	fail(w, http.StatusUnauthorized, "log in with a dncgate user name and password")
}
