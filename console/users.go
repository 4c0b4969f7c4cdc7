package console

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/dncgate/dncgate/accounts"
	"github.com/dncgate/dncgate/ledger"
	"github.com/dncgate/dncgate/store"
)

// Paths of the admins' users pages: the list with the form that adds a
// user, one user's page (?email=) and the forms it posts.
const (
	UsersPath        = Prefix + "users"
	UserPath         = Prefix + "users/user"
	UserUpdatePath   = Prefix + "users/update"
	UserDisablePath  = Prefix + "users/disable"
	UserEnablePath   = Prefix + "users/enable"
	UserPasswordPath = Prefix + "users/password"
)

// AccountStore adds, lists and changes users (store.Users and the
// sessions, which a disabled user loses).
type AccountStore interface {
	accounts.Store
	AddUser(ctx context.Context, u store.User) error
}

// userRow is one user as the pages show it.
type userRow struct {
	store.User
	Enrolled bool // has a second factor
	Self     bool // the admin reading the page
}

// SendAsText is the send-as list as the form edits it.
func (r userRow) SendAsText() string { return strings.Join(r.SendAs, ", ") }

// userForm is what a form sent, given back after a refusal.
type userForm struct {
	Email, Role, SendAs string
	Generate            bool
}

type usersData struct {
	Users   []userRow
	User    *userRow // the user's own page
	Form    userForm
	Roles   []store.Role
	Problem string // why the form was refused
	Field   string // the refused input: email, role, send_as, password
	Done    string
	// Generated is a password made for Done's user, shown this once.
	Generated string
	MinPass   int
	HasSecond bool
}

func (c *Console) userPages() []Page {
	if c.o.Accounts == nil {
		return nil
	}
	a := store.RoleAdmin
	return []Page{
		{Pattern: "GET " + UsersPath, Role: a, Nav: "nav.users", Template: "users.html.tmpl", Serve: c.usersPage},
		{Pattern: "POST " + UsersPath, Role: a, Template: "users.html.tmpl", Serve: c.userAdd},
		{Pattern: "GET " + UserPath, Role: a, Template: "users.html.tmpl", Serve: c.userPage},
		{Pattern: "POST " + UserUpdatePath, Role: a, Template: "users.html.tmpl", Serve: c.userUpdate},
		{Pattern: "POST " + UserDisablePath, Role: a, Template: "users.html.tmpl", Serve: c.userDisable},
		{Pattern: "POST " + UserEnablePath, Role: a, Template: "users.html.tmpl", Serve: c.userEnable},
		{Pattern: "POST " + UserPasswordPath, Role: a, Template: "users.html.tmpl", Serve: c.userPassword},
	}
}

// doneKeys are the notices a redirect may name (?done=KEY&email=).
var doneKeys = []string{"updated", "unchanged", "disabled", "enabled", "reset"}

func (c *Console) usersPage(rq *Request) {
	c.renderUsers(rq, http.StatusOK, usersData{Form: userForm{Role: string(store.RoleRep)}})
}

// renderUsers shows the list with data's form, notice or problem.
func (c *Console) renderUsers(rq *Request, status int, data usersData) {
	ctx, cancel := context.WithTimeout(rq.R.Context(), storeTimeout)
	defer cancel()
	users, err := c.o.Accounts.ListUsers(ctx)
	if err != nil {
		c.unavailable(rq, "users", err)
		return
	}
	for _, u := range users {
		row, err := c.userRow(ctx, rq, u)
		if err != nil {
			c.unavailable(rq, "users", err)
			return
		}
		data.Users = append(data.Users, row)
	}
	c.fill(&data)
	rq.RenderStatus(status, data)
}

func (c *Console) fill(data *usersData) {
	data.Roles = []store.Role{store.RoleRep, store.RoleManager, store.RoleAdmin}
	data.MinPass, data.HasSecond = accounts.MinPassword, c.o.Second != nil
}

func (c *Console) userRow(ctx context.Context, rq *Request, u store.User) (userRow, error) {
	row := userRow{User: u, Self: u.Email == rq.User.Email}
	if c.o.Second != nil {
		var err error
		if row.Enrolled, err = c.o.Second.Enrolled(ctx, u.Email); err != nil {
			return row, err
		}
	}
	return row, nil
}

// userPage is one user's page, with the notice a change redirected with.
func (c *Console) userPage(rq *Request) {
	q := rq.R.URL.Query()
	data := usersData{}
	if k := q.Get("done"); slices.Contains(doneKeys, k) {
		data.Done = rq.T("users.done."+k, q.Get("email"))
	}
	c.renderUser(rq, http.StatusOK, q.Get("email"), data)
}

// renderUser shows the user's page; a user that is not there is a 404.
func (c *Console) renderUser(rq *Request, status int, email string, data usersData) {
	ctx, cancel := context.WithTimeout(rq.R.Context(), storeTimeout)
	defer cancel()
	u, err := c.o.Accounts.User(ctx, strings.ToLower(strings.TrimSpace(email)))
	if errors.Is(err, store.ErrNotFound) {
		rq.Fail(http.StatusNotFound, "users.nouser")
		return
	}
	if err != nil {
		c.unavailable(rq, "users", err)
		return
	}
	row, err := c.userRow(ctx, rq, u)
	if err != nil {
		c.unavailable(rq, "users", err)
		return
	}
	data.User = &row
	if data.Form.Role == "" {
		data.Form = userForm{Role: string(u.Role), SendAs: row.SendAsText()}
	}
	c.fill(&data)
	rq.RenderStatus(status, data)
}

// splitSendAs reads the send-as input: entries separated by commas,
// spaces or lines.
func splitSendAs(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ';' || r == ' ' || r == '\n' || r == '\r' || r == '\t' })
}

// problem turns a refused value into the reader's message and the field
// to point at.
func (c *Console) problem(rq *Request, err error) (string, string) {
	var fe *accounts.Error
	if errors.As(err, &fe) {
		switch fe.Field {
		case accounts.FieldEmail:
			return rq.T("users.bad.email", fe.Value), string(fe.Field)
		case accounts.FieldRole:
			return rq.T("users.bad.role", fe.Value), string(fe.Field)
		case accounts.FieldSendAs:
			return rq.T("users.bad.sendas", fe.Value), string(fe.Field)
		case accounts.FieldPassword:
			return rq.T("users.bad.password", accounts.MinPassword, accounts.MaxPassword), string(fe.Field)
		}
	}
	if errors.Is(err, accounts.ErrLastAdmin) {
		return rq.T("users.lastadmin"), "" // no one input is wrong
	}
	return "", ""
}

// password is the form's new password: generated when asked, else the
// one typed, checked and hashed at the gateway's cost.
func (c *Console) password(rq *Request) (plain, generated string, hash []byte, err error) {
	if rq.R.PostFormValue("generate") == "yes" {
		generated = accounts.GeneratePassword()
		plain = generated
	} else {
		plain = rq.R.PostFormValue("password")
	}
	hash, err = accounts.HashPassword(plain, c.o.PasswordCost)
	return plain, generated, hash, err
}

// userAdd adds a user with the role, send-as list (their own address when
// empty) and password of the form.
func (c *Console) userAdd(rq *Request) {
	f := rq.R.PostFormValue
	form := userForm{Email: strings.TrimSpace(f("email")), Role: f("role"), SendAs: f("send_as"), Generate: f("generate") == "yes"}
	refuse := func(status int, msg, field string) {
		c.renderUsers(rq, status, usersData{Form: form, Problem: msg, Field: field})
	}
	u, err := accounts.New(form.Email, form.Role, splitSendAs(form.SendAs))
	if err != nil {
		msg, field := c.problem(rq, err)
		refuse(http.StatusBadRequest, msg, field)
		return
	}
	_, generated, hash, err := c.password(rq)
	if err != nil {
		msg, field := c.problem(rq, err)
		refuse(http.StatusBadRequest, msg, field)
		return
	}
	u.PasswordHash = hash
	ctx, cancel := context.WithTimeout(rq.R.Context(), storeTimeout)
	defer cancel()
	switch err := c.o.Accounts.AddUser(ctx, u); {
	case errors.Is(err, store.ErrExists):
		refuse(http.StatusConflict, rq.T("users.exists", u.Email), "email")
		return
	case err != nil:
		c.unavailable(rq, "users", err)
		return
	}
	c.o.Log.Info("console: user added", "user", maskUser(u.Email), "role", u.Role, "by", maskUser(rq.User.Email))
	data := usersData{Form: userForm{Role: string(store.RoleRep)}, Done: rq.T("users.added", u.Email), Generated: generated}
	if err := c.auditUser(ctx, rq, "add", u); err != nil {
		data.Done, data.Problem = "", rq.T("users.unaudited")
	}
	c.renderUsers(rq, http.StatusOK, data)
}

// auditUser records a change to u by the admin, as the command line does.
func (c *Console) auditUser(ctx context.Context, rq *Request, change string, u store.User) error {
	e := accounts.Event(rq.User.Email, change, u)
	e.At, e.Source = c.o.Now(), ledger.SourceConsole
	e.Details["client"] = rq.Client()
	err := c.auditChange(context.WithoutCancel(ctx), e)
	if err != nil {
		c.o.Log.Error("console: user change not audited", "err", err)
	}
	return err
}

// change applies f to the form's user through accounts.Update (one
// enabled admin is kept), audits it and goes back to the user's page
// with the notice done; a refusal shows the page with the problem.
func (c *Console) change(rq *Request, done string, f func(*store.User) (string, error)) {
	email := strings.ToLower(strings.TrimSpace(rq.R.PostFormValue("email")))
	ctx, cancel := context.WithTimeout(rq.R.Context(), storeTimeout)
	defer cancel()
	var what string
	u, err := accounts.Update(ctx, c.o.Accounts, email, func(u *store.User) error {
		var err error
		what, err = f(u)
		return err
	})
	if msg, field := c.problem(rq, err); msg != "" {
		form := userForm{Role: rq.R.PostFormValue("role"), SendAs: rq.R.PostFormValue("send_as")}
		c.renderUser(rq, http.StatusBadRequest, email, usersData{Form: form, Problem: msg, Field: field})
		return
	}
	switch {
	case errors.Is(err, accounts.ErrNoUser):
		rq.Fail(http.StatusNotFound, "users.nouser")
		return
	case err != nil && u.Email == "":
		c.unavailable(rq, "users", err)
		return
	case err != nil: // made, but the sessions were not deleted; the console refuses them anyway
		c.o.Log.Error("console: user change", "err", err)
	}
	if what == "" {
		rq.Redirect(UserPath + "?done=unchanged&email=" + url.QueryEscape(u.Email))
		return
	}
	c.o.Log.Info("console: user changed", "user", maskUser(u.Email), "change", what, "by", maskUser(rq.User.Email))
	if err := c.auditUser(ctx, rq, what, u); err != nil {
		c.renderUser(rq, http.StatusInternalServerError, u.Email, usersData{Problem: rq.T("users.unaudited")})
		return
	}
	if u.Email == rq.User.Email && u.Disabled {
		rq.Redirect(LoginPath)
		return
	}
	rq.Redirect(UserPath + "?done=" + done + "&email=" + url.QueryEscape(u.Email))
}

// userUpdate sets the role and replaces the send-as list.
func (c *Console) userUpdate(rq *Request) {
	c.change(rq, "updated", func(u *store.User) (string, error) {
		role, err := accounts.ParseRole(rq.R.PostFormValue("role"))
		if err != nil {
			return "", err
		}
		entries := splitSendAs(rq.R.PostFormValue("send_as"))
		if len(entries) == 0 {
			return "", &accounts.Error{Field: accounts.FieldSendAs, Err: accounts.ErrBadSendAs}
		}
		list, err := accounts.ParseSendAs(entries)
		if err != nil {
			return "", err
		}
		var what []string
		if role != u.Role {
			u.Role = role
			what = append(what, "role "+string(role))
		}
		if !slices.Equal(list, u.SendAs) {
			u.SendAs = list
			what = append(what, "send-as "+strings.Join(list, ","))
		}
		if len(what) == 0 {
			return "", nil
		}
		return "set " + strings.Join(what, "; "), nil
	})
}

func (c *Console) userDisable(rq *Request) {
	c.change(rq, "disabled", func(u *store.User) (string, error) {
		if u.Disabled {
			return "", nil
		}
		accounts.Disable(u, rq.User.Email, c.o.Now())
		return "disable", nil
	})
}

func (c *Console) userEnable(rq *Request) {
	c.change(rq, "enabled", func(u *store.User) (string, error) {
		if !u.Disabled {
			return "", nil
		}
		accounts.Enable(u)
		return "enable", nil
	})
}

// userPassword sets the password the admin typed, or a generated one
// shown this once, and ends the user's console sessions (an admin's own
// password leaves theirs).
func (c *Console) userPassword(rq *Request) {
	email := strings.ToLower(strings.TrimSpace(rq.R.PostFormValue("email")))
	_, generated, hash, err := c.password(rq)
	if err != nil {
		msg, field := c.problem(rq, err)
		c.renderUser(rq, http.StatusBadRequest, email, usersData{Problem: msg, Field: field})
		return
	}
	ctx, cancel := context.WithTimeout(rq.R.Context(), storeTimeout)
	defer cancel()
	u, err := accounts.Update(ctx, c.o.Accounts, email, func(u *store.User) error {
		u.PasswordHash = hash
		return nil
	})
	switch {
	case errors.Is(err, accounts.ErrNoUser):
		rq.Fail(http.StatusNotFound, "users.nouser")
		return
	case err != nil:
		c.unavailable(rq, "users", err)
		return
	}
	if u.Email != rq.User.Email { // an admin resetting their own keeps this session
		if _, err := c.o.Accounts.DeleteUserSessions(ctx, u.Email); err != nil {
			c.o.Log.Error("console: sessions not ended at a password reset", "err", err)
		}
	}
	c.o.Log.Info("console: password reset", "user", maskUser(u.Email), "by", maskUser(rq.User.Email))
	data := usersData{Done: rq.T("users.passwordset", u.Email), Generated: generated}
	if err := c.auditUser(ctx, rq, "passwd", u); err != nil {
		data.Done, data.Problem = "", rq.T("users.unaudited")
	}
	c.renderUser(rq, http.StatusOK, u.Email, data)
}
