package console

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/http"
	"net/netip"
	"net/url"
	"time"

	"github.com/dncgate/dncgate/internal/ratelimit"
	"github.com/dncgate/dncgate/lists"
	"github.com/dncgate/dncgate/store"
)

// csrfField is the name of the hidden input carrying the CSRF token.
const csrfField = "csrf"

// storeTimeout bounds one store call of a request.
const storeTimeout = 5 * time.Second

// cookieName is the session cookie's name: with the __Host- prefix the
// browser keeps it only when Secure, without Domain and for Path=/
// (RFC 6265bis §4.1.3.2), so a sibling host cannot plant one.
func (c *Console) cookieName() string {
	if c.o.Insecure {
		return "dncgate-console"
	}
	return "__Host-dncgate-console"
}

// newSecret is a fresh random token, URL-safe.
func newSecret() string {
	var b [32]byte
	_, _ = rand.Read(b[:]) // never fails (Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// sessionID is the store's name for a cookie's secret.
func sessionID(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// setCookie gives the browser the session secret: HttpOnly, SameSite=Strict,
// Secure unless the console is configured insecure.
func (c *Console) setCookie(w http.ResponseWriter, name, value string, maxAge time.Duration) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: value, Path: "/", MaxAge: int(maxAge / time.Second),
		Secure: !c.o.Insecure, HttpOnly: true, SameSite: http.SameSiteStrictMode})
}

func (c *Console) clearCookie(w http.ResponseWriter, name string) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: "", Path: "/", MaxAge: -1,
		Secure: !c.o.Insecure, HttpOnly: true, SameSite: http.SameSiteStrictMode})
}

// errNoSession: no cookie, or one whose session is gone or expired.
var errNoSession = errors.New("no session")

// current is the request's session and its user. An expired session is
// deleted; a user removed, disabled or without a role ends it too.
func (c *Console) current(ctx context.Context, r *http.Request) (store.Session, store.User, error) {
	ck, err := r.Cookie(c.cookieName())
	if err != nil || ck.Value == "" {
		return store.Session{}, store.User{}, errNoSession
	}
	id := sessionID(ck.Value)
	s, err := c.o.Sessions.Session(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return s, store.User{}, errNoSession
	}
	if err != nil {
		return s, store.User{}, err
	}
	now := c.o.Now()
	if now.Sub(s.SeenAt) >= c.o.Idle || now.Sub(s.CreatedAt) >= c.o.Max {
		_ = c.o.Sessions.DeleteSession(ctx, id)
		return store.Session{}, store.User{}, errNoSession
	}
	u, err := c.o.Users.User(ctx, s.User)
	if errors.Is(err, store.ErrNotFound) || (err == nil && (!u.Role.Valid() || u.Disabled)) {
		_ = c.o.Sessions.DeleteSession(ctx, id)
		return store.Session{}, store.User{}, errNoSession
	}
	return s, u, err
}

// ttl is how long the store keeps a session seen at now: the idle
// expiry, cut short by the absolute one.
func (c *Console) ttl(s store.Session, now time.Time) time.Duration {
	return min(c.o.Idle, s.CreatedAt.Add(c.o.Max).Sub(now))
}

// startSession replaces the request's session, if any, by a new one for
// user (the ID rotates at every step of a login) and sets its cookie.
func (c *Console) startSession(ctx context.Context, w http.ResponseWriter, r *http.Request, user, pending string) (store.Session, error) {
	if ck, err := r.Cookie(c.cookieName()); err == nil && ck.Value != "" {
		_ = c.o.Sessions.DeleteSession(ctx, sessionID(ck.Value))
	}
	now := c.o.Now()
	secret := newSecret()
	s := store.Session{ID: sessionID(secret), User: user, Pending: pending, CSRF: newSecret(), CreatedAt: now, SeenAt: now}
	if err := c.o.Sessions.CreateSession(ctx, s, c.o.Idle); err != nil {
		return store.Session{}, err
	}
	c.setCookie(w, c.cookieName(), secret, c.o.Max)
	return s, nil
}

// endSession deletes the request's session and its cookie.
func (c *Console) endSession(ctx context.Context, w http.ResponseWriter, s store.Session) error {
	c.clearCookie(w, c.cookieName())
	return c.o.Sessions.DeleteSession(ctx, s.ID)
}

// request starts a Request: the language, and the session when there is one.
func (c *Console) request(w http.ResponseWriter, r *http.Request, pg *page) (*Request, bool) {
	rq := &Request{W: w, R: r, Lang: pickLanguage(r), c: c, page: pg}
	ctx, cancel := context.WithTimeout(r.Context(), storeTimeout)
	defer cancel()
	s, u, err := c.current(ctx, r)
	switch {
	case errors.Is(err, errNoSession):
	case err != nil:
		c.o.Log.Error("console: session not read", "err", err)
		rq.Fail(http.StatusServiceUnavailable, "error.unavailable")
		return rq, false
	default:
		rq.Session, rq.User = s, u
	}
	return rq, true
}

// guard checks, in order, the login, the pending step, the role and, for
// anything but GET and HEAD, the CSRF token; then it keeps the session
// alive and serves the page.
func (c *Console) guard(pg *page) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rq, ok := c.request(w, r, pg)
		if !ok {
			return
		}
		if !c.admit(rq) {
			return
		}
		if rq.Session.ID != "" {
			c.touch(rq)
		}
		pg.Serve(rq)
	})
}

// admit answers and returns false when rq may not reach its page.
func (c *Console) admit(rq *Request) bool {
	pg, s := rq.page, rq.Session
	switch {
	case pg.Public:
	case s.ID == "":
		if rq.R.Method == http.MethodGet {
			rq.Redirect(LoginPath + "?next=" + url.QueryEscape(rq.R.URL.RequestURI()))
		} else {
			rq.Fail(http.StatusUnauthorized, "error.login")
		}
		return false
	case s.Pending != pg.Step:
		if s.Pending == "" {
			rq.Redirect(HomePath)
		} else {
			rq.Redirect(c.stepPath(s.Pending))
		}
		return false
	case !Allows(rq.User.Role, pg.Role):
		c.o.Log.Warn("console: refused to a role", "user", maskUser(rq.User.Email), "role", rq.User.Role, "page", pg.Pattern)
		rq.Fail(http.StatusForbidden, "error.forbidden")
		return false
	}
	if !safeMethod(rq.R.Method) && !c.csrfOK(rq) {
		c.o.Log.Warn("console: form without its CSRF token", "page", pg.Pattern, "client", rq.Client())
		rq.Fail(http.StatusForbidden, "error.csrf")
		return false
	}
	return true
}

func safeMethod(m string) bool { return m == http.MethodGet || m == http.MethodHead }

// csrfOK compares the form's token with the session's in constant time;
// a public form (the login) compares with its own cookie, session or not.
func (c *Console) csrfOK(rq *Request) bool {
	want := rq.Session.CSRF
	if rq.Session.ID == "" || rq.page.Public {
		ck, err := rq.R.Cookie(c.preCookieName())
		if err != nil {
			return false
		}
		want = ck.Value
	}
	got := rq.R.PostFormValue(csrfField)
	if got == "" {
		got = rq.R.Header.Get("X-CSRF-Token")
	}
	return want != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// preCookieName is the cookie that protects the login form itself, before
// there is a session (a double-submitted token).
func (c *Console) preCookieName() string {
	if c.o.Insecure {
		return "dncgate-login"
	}
	return "__Host-dncgate-login"
}

// preToken is the login form's token, set in its cookie when missing.
func (c *Console) preToken(rq *Request) string {
	if ck, err := rq.R.Cookie(c.preCookieName()); err == nil && len(ck.Value) >= 32 {
		return ck.Value
	}
	t := newSecret()
	c.setCookie(rq.W, c.preCookieName(), t, time.Hour)
	return t
}

// touch moves the idle expiry; a store that cannot is logged, not fatal:
// the session then ends at its earlier time.
func (c *Console) touch(rq *Request) {
	now := c.o.Now()
	ctx, cancel := context.WithTimeout(rq.R.Context(), storeTimeout)
	defer cancel()
	if err := c.o.Sessions.TouchSession(ctx, rq.Session.ID, now, c.ttl(rq.Session, now)); err != nil {
		c.o.Log.Warn("console: session not touched", "err", err)
	}
}

func clientAddr(r *http.Request, trusted []netip.Prefix) netip.Addr {
	return ratelimit.ClientAddr(r, trusted)
}

// maskUser masks a user's login for the log.
func maskUser(email string) string { return lists.MaskEmail(email) }
