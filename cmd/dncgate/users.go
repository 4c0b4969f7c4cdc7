package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/dncgate/dncgate/accounts"
	"github.com/dncgate/dncgate/auth"
	"github.com/dncgate/dncgate/config"
	"github.com/dncgate/dncgate/store"
)

func (a *app) users(ctx context.Context, args []string) error {
	return a.dispatch(ctx, "dncgate users", []command{
		{"add", "add a user", (*app).usersAdd},
		{"ls", "list users", (*app).usersList},
		{"passwd", "set a user's password", (*app).usersPasswd},
		{"rm", "remove a user", (*app).usersRemove},
		{"set", "change a user's role or replace their send-as list", (*app).usersSet},
		{"disable", "refuse every login of a user and end their console sessions", (*app).usersDisable},
		{"enable", "let a disabled user log in again", (*app).usersEnable},
		{"grant", "let a user send as more addresses or domains", (*app).usersGrant},
		{"revoke", "take send-as addresses or domains from a user", (*app).usersRevoke},
		{"totp-reset", "remove a user's second factor and end their console sessions", (*app).usersTOTPReset},
		{"help", "print this help", nil},
	}, args)
}

// usersCmd holds what every users subcommand parses.
type usersCmd struct {
	common
	fs *flagSet
}

func (a *app) newUsersCmd(name, args, summary string) *usersCmd {
	u := &usersCmd{fs: a.newFlags("dncgate users "+name, args, summary)}
	u.register(u.fs)
	return u
}

// withStore loads the configuration, opens the store and runs f with it.
func (u *usersCmd) withStore(ctx context.Context, f func(store.Store) error) error {
	return u.withConfigStore(ctx, func(_ *config.Config, st backend) error { return f(st) })
}

func (a *app) usersAdd(ctx context.Context, args []string) error {
	u := a.newUsersCmd("add", "EMAIL", "Add a user who may log in to the relay. The password is asked twice on the\n"+
		"terminal, or read as one line from stdin with --password-stdin.")
	role := u.fs.String("role", string(store.RoleRep), "`ROLE`: rep, manager or admin")
	var sendAs listFlag
	u.fs.Var(&sendAs, "send-as", "`ADDR` or @DOMAIN the user may send as; repeatable (default: the user's own address)")
	fromStdin := u.fs.Bool("password-stdin", false, "read the password from stdin")
	pos, err := u.fs.parse(args, 1, 1)
	if err != nil {
		return err
	}
	user, err := newUser(pos[0], *role, sendAs)
	if err != nil {
		return u.fs.usageError("%v", err)
	}
	return u.withConfigStore(ctx, func(cfg *config.Config, st backend) error {
		// Refuse a taken address before asking for a password.
		if _, err := st.User(ctx, user.Email); err == nil {
			return fmt.Errorf("user %s already exists", user.Email)
		} else if !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("reading user %s: %w", user.Email, err)
		}
		var err error
		if user.PasswordHash, err = a.newPasswordHash(*fromStdin); err != nil {
			return fmt.Errorf("user %s: %w", user.Email, err)
		}
		if err := st.AddUser(ctx, user); errors.Is(err, store.ErrExists) {
			return fmt.Errorf("user %s already exists", user.Email)
		} else if err != nil {
			return fmt.Errorf("adding user %s: %w", user.Email, err)
		}
		fmt.Fprintf(a.stdout, "added %s (role %s, send-as %s)\n", user.Email, user.Role, strings.Join(user.SendAs, ", "))
		return recordAudit(ctx, cfg, userEvent("add", user))
	})
}

// newUser validates the command-line parts of a new user, naming the
// user in any error past the address itself.
func newUser(email, role string, sendAs []string) (store.User, error) {
	u, err := accounts.New(email, role, sendAs)
	var fe *accounts.Error
	if errors.As(err, &fe) && fe.Field != accounts.FieldEmail {
		return u, fmt.Errorf("user %s: %w", strings.ToLower(email), err)
	}
	return u, err
}

func (a *app) newPasswordHash(fromStdin bool) ([]byte, error) {
	pw, err := a.readPassword(fromStdin)
	if err != nil {
		return nil, err
	}
	return accounts.HashPassword(pw, auth.DefaultCost)
}

func (a *app) usersList(ctx context.Context, args []string) error {
	u := a.newUsersCmd("ls", "", "List every user with role, send-as addresses, whether disabled, the last login\n"+
		"(at most a minute old) and creation time (UTC).")
	asJSON := jsonFlag(u.fs)
	if _, err := u.fs.parse(args, 0, 0); err != nil {
		return err
	}
	return u.withStore(ctx, func(st store.Store) error {
		users, err := st.ListUsers(ctx)
		if err != nil {
			return fmt.Errorf("listing users: %w", err)
		}
		if *asJSON {
			return a.writeJSON(usersJSON(users))
		}
		tw := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "EMAIL\tROLE\tSEND-AS\tDISABLED\tLAST-LOGIN\tCREATED")
		for _, usr := range users {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", usr.Email, usr.Role, strings.Join(usr.SendAs, ","),
				timeOrDash(usr.Disabled, usr.DisabledAt), timeOrDash(!usr.LastLogin.IsZero(), usr.LastLogin),
				usr.CreatedAt.UTC().Format(time.RFC3339))
		}
		return tw.Flush()
	})
}

// timeOrDash is t in RFC 3339 (UTC) when set is true, "-" otherwise; a
// disabled user whose time is unknown shows "yes".
func timeOrDash(set bool, t time.Time) string {
	switch {
	case !set:
		return "-"
	case t.IsZero():
		return "yes"
	}
	return t.UTC().Format(time.RFC3339)
}

type userJSON struct {
	Email      string   `json:"email"`
	Role       string   `json:"role"`
	SendAs     []string `json:"send_as"`
	Disabled   bool     `json:"disabled"`
	DisabledAt *string  `json:"disabled_at"`
	DisabledBy *string  `json:"disabled_by"`
	LastLogin  *string  `json:"last_login"`
	Created    *string  `json:"created"`
}

func usersJSON(users []store.User) []userJSON {
	out := make([]userJSON, 0, len(users))
	for _, usr := range users {
		j := userJSON{Email: usr.Email, Role: string(usr.Role), SendAs: append([]string{}, usr.SendAs...),
			Disabled: usr.Disabled, DisabledAt: jsonTime(usr.DisabledAt), LastLogin: jsonTime(usr.LastLogin), Created: jsonTime(usr.CreatedAt)}
		if usr.DisabledBy != "" {
			j.DisabledBy = &usr.DisabledBy
		}
		out = append(out, j)
	}
	return out
}

func (a *app) usersPasswd(ctx context.Context, args []string) error {
	u := a.newUsersCmd("passwd", "EMAIL", "Set a user's password: asked twice on the terminal, or one line from stdin\nwith --password-stdin.")
	fromStdin := u.fs.Bool("password-stdin", false, "read the password from stdin")
	email, err := u.parseEmail(args)
	if err != nil {
		return err
	}
	return u.withConfigStore(ctx, func(cfg *config.Config, st backend) error {
		changed, err := updateUser(ctx, st, email, func(usr *store.User) error {
			h, err := a.newPasswordHash(*fromStdin)
			usr.PasswordHash = h
			return err
		})
		if err != nil {
			return err
		}
		return recordAudit(ctx, cfg, userEvent("passwd", changed))
	})
}

func (a *app) usersRemove(ctx context.Context, args []string) error {
	u := a.newUsersCmd("rm", "EMAIL", "Remove a user.")
	email, err := u.parseEmail(args)
	if err != nil {
		return err
	}
	return u.withConfigStore(ctx, func(cfg *config.Config, st backend) error {
		if err := accounts.Remove(ctx, st, email); errors.Is(err, accounts.ErrNoUser) {
			return fmt.Errorf("no user %s", email)
		} else if err != nil {
			return lastAdminHint(err)
		}
		fmt.Fprintf(a.stdout, "removed %s\n", email)
		return recordAudit(ctx, cfg, userEvent("remove", store.User{Email: email}))
	})
}

// parseEmail parses a command whose one argument is a user's address.
func (u *usersCmd) parseEmail(args []string) (string, error) {
	pos, err := u.fs.parse(args, 1, 1)
	if err != nil {
		return "", err
	}
	email, err := normalizeEmail(pos[0])
	if err != nil {
		return "", u.fs.usageError("%v", err)
	}
	return email, nil
}

// updateUser reads a user, lets change modify it and writes it back,
// keeping one enabled admin (accounts.Update); it returns the user as
// written.
func updateUser(ctx context.Context, st store.Store, email string, change func(*store.User) error) (store.User, error) {
	u, err := accounts.Update(ctx, st, email, change)
	if errors.Is(err, accounts.ErrNoUser) {
		return u, fmt.Errorf("no user %s", email)
	}
	return u, err
}

// normalizeEmail checks a user's login address (package accounts).
func normalizeEmail(s string) (string, error) { return accounts.ParseEmail(s) }

// normalizeSendAs checks send-as addresses and @domains (package accounts).
func normalizeSendAs(list []string) ([]string, error) { return accounts.ParseSendAs(list) }
