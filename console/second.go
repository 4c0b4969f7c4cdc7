package console

import (
	"context"
	"errors"
	"html/template"
	"net/http"
	"strings"
	"time"

	"github.com/dncgate/dncgate/ledger"
	"github.com/dncgate/dncgate/store"
)

// The pending steps of a login.
const (
	stepTOTP    = "totp"  // the password matched; the code is asked
	stepEnrol   = "enrol" // the password matched; a second factor must be set up
	stepRefused = "-"     // no session: the role needs a second factor none can give
)

// Paths of the second-factor pages.
const (
	TOTPPath  = Prefix + "login/code"
	EnrolPath = Prefix + "login/enrol"
)

// Key is a new second-factor secret, shown once at enrolment.
type Key struct {
	Secret string       // base32, for typing into an app
	URL    string       // the otpauth:// URL the QR code holds
	QR     template.URL // a data: URL of the QR code image
}

// SecondFactor is the one-time codes (package console/totp).
type SecondFactor interface {
	// Enrolled reports whether u has a second factor.
	Enrolled(u store.User) bool
	// NewKey makes a fresh secret for u.
	NewKey(u store.User) (Key, error)
	// Enrol keeps secret as u's second factor once code matches it, and
	// returns the one-use recovery codes, to be shown once.
	Enrol(ctx context.Context, email, secret, code string, now time.Time) ([]string, error)
	// Verify checks a code or a recovery code; each is accepted once.
	Verify(ctx context.Context, email, code string, now time.Time) error
	// Reset removes u's second factor (an admin's action).
	Reset(ctx context.Context, email string) error
}

// ErrWrongCode is a code that does not match, or was used already.
var ErrWrongCode = errors.New("wrong or used code")

// needsSecond: managers and admins must have a second factor; a rep who
// enrolled uses theirs.
func needsSecond(r store.Role) bool { return r == store.RoleManager || r == store.RoleAdmin }

// firstStep is what a login whose password matched must still do.
func (c *Console) firstStep(_ context.Context, u store.User) (string, error) {
	switch {
	case c.o.Second == nil && needsSecond(u.Role):
		return stepRefused, nil
	case c.o.Second == nil:
		return "", nil
	case c.o.Second.Enrolled(u):
		return stepTOTP, nil
	case needsSecond(u.Role):
		return stepEnrol, nil
	}
	return "", nil
}

// codeData is what the code and enrolment pages show.
type codeData struct {
	Next     string
	Key      Key
	Recovery []string
	Error    string
}

func (c *Console) codeForm(rq *Request) {
	rq.Render(codeData{Next: localNext(rq.R.URL.Query().Get("next"))})
}

// codePost completes a login with the code of the second factor.
func (c *Console) codePost(rq *Request) {
	next := localNext(rq.R.PostFormValue("next"))
	ctx, cancel := context.WithTimeout(rq.R.Context(), storeTimeout)
	defer cancel()
	err := c.o.Second.Verify(ctx, rq.User.Email, strings.TrimSpace(rq.R.PostFormValue("code")), c.o.Now())
	switch {
	case errors.Is(err, ErrWrongCode):
		c.audit(rq, ledger.ActLoginFailed, rq.User.Email, "code")
		rq.RenderStatus(http.StatusUnauthorized, codeData{Next: next, Error: rq.T("code.refused")})
		return
	case err != nil:
		c.o.Log.Error("console: code not checked", "err", err)
		rq.Fail(http.StatusServiceUnavailable, "error.unavailable")
		return
	}
	c.complete(ctx, rq, "code", next)
}

// complete rotates the half-logged-in session into a complete one.
func (c *Console) complete(ctx context.Context, rq *Request, how, next string) {
	s, err := c.startSession(ctx, rq.W, rq.R, rq.User.Email, "")
	if err != nil {
		c.o.Log.Error("console: session not created", "err", err)
		rq.Fail(http.StatusServiceUnavailable, "error.unavailable")
		return
	}
	rq.Session = s
	c.audit(rq, ledger.ActLogin, rq.User.Email, how)
	rq.Redirect(next)
}

func (c *Console) enrolForm(rq *Request) {
	k, err := c.o.Second.NewKey(rq.User)
	if err != nil {
		c.o.Log.Error("console: no second-factor key", "err", err)
		rq.Fail(http.StatusInternalServerError, "error.internal")
		return
	}
	rq.Render(codeData{Next: localNext(rq.R.URL.Query().Get("next")), Key: k})
}

// enrolPost keeps the new secret once the app's first code matches, and
// shows the recovery codes, once.
func (c *Console) enrolPost(rq *Request) {
	next := localNext(rq.R.PostFormValue("next"))
	secret := rq.R.PostFormValue("secret")
	ctx, cancel := context.WithTimeout(rq.R.Context(), storeTimeout)
	defer cancel()
	codes, err := c.o.Second.Enrol(ctx, rq.User.Email, secret, strings.TrimSpace(rq.R.PostFormValue("code")), c.o.Now())
	switch {
	case errors.Is(err, ErrWrongCode):
		k, kerr := c.o.Second.NewKey(rq.User)
		if kerr != nil {
			rq.Fail(http.StatusInternalServerError, "error.internal")
			return
		}
		rq.RenderStatus(http.StatusUnauthorized, codeData{Next: next, Key: k, Error: rq.T("code.refused")})
		return
	case err != nil:
		c.o.Log.Error("console: second factor not enrolled", "err", err)
		rq.Fail(http.StatusServiceUnavailable, "error.unavailable")
		return
	}
	c.audit(rq, ledger.ActTOTPEnrol, rq.User.Email, "")
	s, err := c.startSession(ctx, rq.W, rq.R, rq.User.Email, "")
	if err != nil {
		rq.Fail(http.StatusServiceUnavailable, "error.unavailable")
		return
	}
	rq.Session = s
	c.audit(rq, ledger.ActLogin, rq.User.Email, "enrolment")
	rq.Render(codeData{Next: next, Recovery: codes})
}
