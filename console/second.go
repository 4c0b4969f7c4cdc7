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
	// Enrolled reports whether the user has a second factor.
	Enrolled(ctx context.Context, email string) (bool, error)
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

// ErrTooManyCodes: too many wrong codes lately; none is checked now.
var ErrTooManyCodes = errors.New("too many wrong codes")

// needsSecond: managers and admins must have a second factor; a rep who
// enrolled uses theirs.
func needsSecond(r store.Role) bool { return r == store.RoleManager || r == store.RoleAdmin }

// firstStep is what a login whose password matched must still do.
func (c *Console) firstStep(ctx context.Context, u store.User) (string, error) {
	if c.o.Second == nil {
		if needsSecond(u.Role) {
			return stepRefused, nil
		}
		return "", nil
	}
	enrolled, err := c.o.Second.Enrolled(ctx, u.Email)
	switch {
	case err != nil:
		return "", err
	case enrolled:
		return stepTOTP, nil
	case needsSecond(u.Role):
		return stepEnrol, nil
	}
	return "", nil
}

// AccountPath is where a logged-in user sets up a second factor of their
// own (a rep, who is not asked to at login).
const AccountPath = Prefix + "account"

// codeData is what the code and enrolment pages show.
type codeData struct {
	Action   string // where the enrolment form posts
	Enrolled bool   // the account page of a user who has one
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
	case errors.Is(err, ErrTooManyCodes):
		// The half-done login ends: the next try costs a password again.
		c.audit(rq, ledger.ActLoginFailed, rq.User.Email, "too many codes")
		_ = c.endSession(ctx, rq.W, rq.Session)
		rq.Fail(http.StatusTooManyRequests, "code.toomany")
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
	rq.Render(codeData{Action: rq.R.URL.Path, Next: localNext(rq.R.URL.Query().Get("next")), Key: k})
}

// account shows whether the user has a second factor, and the enrolment
// when not.
func (c *Console) account(rq *Request) {
	if c.o.Second == nil {
		rq.Fail(http.StatusNotFound, "reset.off")
		return
	}
	ctx, cancel := context.WithTimeout(rq.R.Context(), storeTimeout)
	defer cancel()
	enrolled, err := c.o.Second.Enrolled(ctx, rq.User.Email)
	if err != nil {
		rq.Fail(http.StatusServiceUnavailable, "error.unavailable")
		return
	}
	if enrolled {
		rq.Render(codeData{Enrolled: true})
		return
	}
	c.enrolForm(rq)
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
		rq.RenderStatus(http.StatusUnauthorized, codeData{Action: rq.R.URL.Path, Next: next, Key: k, Error: rq.T("code.refused")})
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
	rq.Render(codeData{Action: rq.R.URL.Path, Next: next, Recovery: codes})
}

// accountPost enrols a user who has no second factor yet; one who has
// keeps theirs (only an admin's reset removes it).
func (c *Console) accountPost(rq *Request) {
	if c.o.Second == nil {
		rq.Fail(http.StatusNotFound, "reset.off")
		return
	}
	ctx, cancel := context.WithTimeout(rq.R.Context(), storeTimeout)
	defer cancel()
	enrolled, err := c.o.Second.Enrolled(ctx, rq.User.Email)
	switch {
	case err != nil:
		rq.Fail(http.StatusServiceUnavailable, "error.unavailable")
	case enrolled:
		rq.Fail(http.StatusConflict, "enrol.have")
	default:
		c.enrolPost(rq)
	}
}
