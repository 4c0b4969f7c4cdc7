package console

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/dncgate/dncgate/auth"
	"github.com/dncgate/dncgate/ledger"
	"github.com/dncgate/dncgate/store"
)

// loginData is what the login form shows.
type loginData struct {
	Name  string // the name typed, given back after a failure
	Next  string
	Token string // the form's own CSRF token, before any session
	Error string
}

func (c *Console) loginForm(rq *Request) {
	if rq.Session.ID != "" && rq.Session.Pending == "" {
		rq.Redirect(localNext(rq.R.URL.Query().Get("next")))
		return
	}
	rq.Render(loginData{Next: localNext(rq.R.URL.Query().Get("next")), Token: c.preToken(rq)})
}

// loginPost checks the password through the shared Authenticator: a
// client or a name locked out by failures at SMTP, the check API or here
// is refused here too, without a password check.
func (c *Console) loginPost(rq *Request) {
	name := strings.ToLower(strings.TrimSpace(rq.R.PostFormValue("email")))
	next := localNext(rq.R.PostFormValue("next"))
	res := c.o.Login.Login(rq.R.Context(), auth.Attempt{User: name, Password: rq.R.PostFormValue("password"), Client: clientAddr(rq.R, c.o.TrustedProxies)})
	data := loginData{Name: name, Next: next, Token: c.preToken(rq)}
	switch res.Outcome {
	case auth.Accepted:
		c.loggedIn(rq, res.User, next)
		return
	case auth.Locked:
		c.audit(rq, ledger.ActLoginFailed, res.Name, "locked")
		rq.W.Header().Set("Retry-After", strconv.Itoa(max(1, int(res.RetryAfter/time.Second))))
		data.Error = rq.T("login.locked")
		rq.RenderStatus(http.StatusTooManyRequests, data)
	case auth.Unavailable:
		c.o.Log.Error("console: login not checked", "err", res.Cause)
		data.Error = rq.T("error.unavailable")
		rq.RenderStatus(http.StatusServiceUnavailable, data)
	default:
		c.o.Log.Warn("console: login failed", "user", maskUser(res.Name), "client", rq.Client(), "err", res.Cause)
		c.audit(rq, ledger.ActLoginFailed, res.Name, "password")
		data.Error = rq.T("login.refused")
		rq.RenderStatus(http.StatusUnauthorized, data)
	}
}

// loggedIn starts the session of a user whose password matched: complete
// for a rep without a second factor, else pending its code or enrolment.
func (c *Console) loggedIn(rq *Request, u store.User, next string) {
	ctx, cancel := context.WithTimeout(rq.R.Context(), storeTimeout)
	defer cancel()
	step, err := c.firstStep(ctx, u)
	if err != nil {
		c.o.Log.Error("console: second factor not read", "err", err)
		rq.Fail(http.StatusServiceUnavailable, "error.unavailable")
		return
	}
	if step == stepRefused {
		c.audit(rq, ledger.ActLoginFailed, u.Email, "no second factor")
		rq.Fail(http.StatusForbidden, "login.nofactor")
		return
	}
	s, err := c.startSession(ctx, rq.W, rq.R, u.Email, step)
	if err != nil {
		c.o.Log.Error("console: session not created", "err", err)
		rq.Fail(http.StatusServiceUnavailable, "error.unavailable")
		return
	}
	rq.Session, rq.User = s, u
	if step != "" {
		c.audit(rq, ledger.ActLogin, u.Email, "password; "+step+" pending")
		rq.Redirect(c.stepPath(step) + "?next=" + url.QueryEscape(next))
		return
	}
	c.audit(rq, ledger.ActLogin, u.Email, "password")
	rq.Redirect(next)
}

func (c *Console) logout(rq *Request) {
	ctx, cancel := context.WithTimeout(rq.R.Context(), storeTimeout)
	defer cancel()
	if err := c.endSession(ctx, rq.W, rq.Session); err != nil {
		c.o.Log.Error("console: session not deleted", "err", err)
		rq.Fail(http.StatusServiceUnavailable, "error.unavailable")
		return
	}
	c.audit(rq, ledger.ActLogout, rq.User.Email, "")
	rq.Redirect(LoginPath)
}

// logoutAll ends every session of the user, on every browser.
func (c *Console) logoutAll(rq *Request) {
	ctx, cancel := context.WithTimeout(rq.R.Context(), storeTimeout)
	defer cancel()
	n, err := c.o.Sessions.DeleteUserSessions(ctx, rq.User.Email)
	if err != nil {
		c.o.Log.Error("console: sessions not deleted", "err", err)
		rq.Fail(http.StatusServiceUnavailable, "error.unavailable")
		return
	}
	c.clearCookie(rq.W, c.cookieName())
	c.auditDetails(rq, ledger.ActLogoutAll, rq.User.Email, "", map[string]string{"sessions": strconv.Itoa(n)})
	rq.Redirect(LoginPath)
}

// chooseLanguage keeps the reader's language in a cookie and goes back.
func (c *Console) chooseLanguage(rq *Request) {
	lang := rq.R.URL.Query().Get("to")
	if _, ok := c.msgs[lang]; ok {
		http.SetCookie(rq.W, &http.Cookie{Name: langCookie, Value: lang, Path: "/", MaxAge: 365 * 24 * 3600,
			Secure: !c.o.Insecure, HttpOnly: true, SameSite: http.SameSiteLaxMode})
	}
	rq.Redirect(localNext(rq.R.URL.Query().Get("next")))
}

// audit records a console event; the trail failing is logged, and does
// not undo the login it records.
func (c *Console) audit(rq *Request, a ledger.Action, user, reason string) {
	c.auditDetails(rq, a, user, reason, nil)
}

func (c *Console) auditDetails(rq *Request, a ledger.Action, user, reason string, details map[string]string) {
	actor := rq.User.Email
	if actor == "" {
		actor = "console"
	}
	if details == nil {
		details = map[string]string{}
	}
	details["client"] = rq.Client()
	e := ledger.AuditEvent{At: c.o.Now(), Actor: actor, Action: a, Object: user, Reason: reason, Details: details}
	if err := c.o.Audit.Audit(context.WithoutCancel(rq.R.Context()), e); err != nil {
		c.o.Log.Error("console: audit event not recorded", "action", a, "err", err)
	}
}

// localNext is where to go after a login: a page of the console, never
// another site (no open redirect).
func localNext(next string) string {
	if !strings.HasPrefix(next, Prefix) || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n") {
		return HomePath
	}
	return next
}
