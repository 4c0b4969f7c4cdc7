package console

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/dncgate/dncgate/ledger"
	"github.com/dncgate/dncgate/store"
)

// ResetPath is the admins' page that removes a user's second factor; a
// form elsewhere (the users page) may post {"email"} to it too.
const ResetPath = Prefix + "second-factor"

type resetData struct {
	Email string
	Done  string // the user whose factor was just removed
	Error string
}

func (c *Console) resetForm(rq *Request) {
	rq.Render(resetData{Done: rq.R.URL.Query().Get("done")})
}

// resetPost removes the user's second factor and ends their sessions:
// their next login asks for a new enrolment.
func (c *Console) resetPost(rq *Request) {
	email := strings.ToLower(strings.TrimSpace(rq.R.PostFormValue("email")))
	if c.o.Second == nil {
		rq.Fail(http.StatusNotFound, "reset.off")
		return
	}
	ctx, cancel := context.WithTimeout(rq.R.Context(), storeTimeout)
	defer cancel()
	if _, err := c.o.Users.User(ctx, email); errors.Is(err, store.ErrNotFound) {
		rq.RenderStatus(http.StatusNotFound, resetData{Email: email, Error: rq.T("reset.nouser", email)})
		return
	} else if err != nil {
		rq.Fail(http.StatusServiceUnavailable, "error.unavailable")
		return
	}
	if err := c.o.Second.Reset(ctx, email); err != nil {
		c.o.Log.Error("console: second factor not reset", "err", err)
		rq.Fail(http.StatusServiceUnavailable, "error.unavailable")
		return
	}
	n, err := c.o.Sessions.DeleteUserSessions(ctx, email)
	if err != nil {
		c.o.Log.Error("console: sessions not ended at a reset", "err", err)
	}
	c.auditDetails(rq, ledger.ActTOTPReset, email, "", map[string]string{"sessions": strconv.Itoa(n), "source": "console"})
	switch {
	case email == rq.User.Email:
		rq.Redirect(LoginPath)
	case rq.R.PostFormValue("from") == "users" && c.o.Accounts != nil:
		rq.Redirect(UserPath + "?done=reset&email=" + url.QueryEscape(email))
	default:
		rq.Redirect(ResetPath + "?done=" + url.QueryEscape(email))
	}
}
