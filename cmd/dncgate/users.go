package main

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"golang.org/x/crypto/bcrypt"

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

// newUser validates the command-line parts of a new user.
func newUser(email, role string, sendAs []string) (store.User, error) {
	e, err := normalizeEmail(email)
	if err != nil {
		return store.User{}, err
	}
	r := store.Role(role)
	if !r.Valid() {
		return store.User{}, fmt.Errorf("user %s: unknown role %q; use rep, manager or admin", e, role)
	}
	if len(sendAs) == 0 {
		sendAs = []string{e}
	}
	list, err := normalizeSendAs(sendAs)
	if err != nil {
		return store.User{}, fmt.Errorf("user %s: %w", e, err)
	}
	return store.User{Email: e, Role: r, SendAs: list}, nil
}

func (a *app) newPasswordHash(fromStdin bool) ([]byte, error) {
	pw, err := a.readPassword(fromStdin)
	if err != nil {
		return nil, err
	}
	return bcrypt.GenerateFromPassword([]byte(pw), auth.DefaultCost)
}

func (a *app) usersList(ctx context.Context, args []string) error {
	u := a.newUsersCmd("ls", "", "List every user with role, send-as addresses and creation time (UTC).")
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
			type userJSON struct {
				Email   string   `json:"email"`
				Role    string   `json:"role"`
				SendAs  []string `json:"send_as"`
				Created *string  `json:"created"`
			}
			out := make([]userJSON, 0, len(users))
			for _, usr := range users {
				out = append(out, userJSON{Email: usr.Email, Role: string(usr.Role), SendAs: append([]string{}, usr.SendAs...), Created: jsonTime(usr.CreatedAt)})
			}
			return a.writeJSON(out)
		}
		tw := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "EMAIL\tROLE\tSEND-AS\tCREATED")
		for _, usr := range users {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", usr.Email, usr.Role, strings.Join(usr.SendAs, ","),
				usr.CreatedAt.UTC().Format(time.RFC3339))
		}
		return tw.Flush()
	})
}

func (a *app) usersPasswd(ctx context.Context, args []string) error {
	u := a.newUsersCmd("passwd", "EMAIL", "Set a user's password: asked twice on the terminal, or one line from stdin\nwith --password-stdin.")
	fromStdin := u.fs.Bool("password-stdin", false, "read the password from stdin")
	email, err := u.parseEmail(args)
	if err != nil {
		return err
	}
	return u.withConfigStore(ctx, func(cfg *config.Config, st backend) error {
		var changed store.User
		err := updateUser(ctx, st, email, func(usr *store.User) error {
			h, err := a.newPasswordHash(*fromStdin)
			usr.PasswordHash = h
			changed = *usr
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
		if err := st.DeleteUser(ctx, email); errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("no user %s", email)
		} else if err != nil {
			return fmt.Errorf("removing user %s: %w", email, err)
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

// updateUser reads a user, lets change modify it and writes it back.
func updateUser(ctx context.Context, st store.Store, email string, change func(*store.User) error) error {
	usr, err := st.User(ctx, email)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("no user %s", email)
	} else if err != nil {
		return fmt.Errorf("reading user %s: %w", email, err)
	}
	if err := change(&usr); err != nil {
		return fmt.Errorf("user %s: %w", email, err)
	}
	if err := st.UpdateUser(ctx, usr); err != nil {
		return fmt.Errorf("updating user %s: %w", email, err)
	}
	return nil
}

// normalizeEmail checks a bare address (no display name, no angle
// brackets) and lower-cases it: logins are case-insensitive.
func normalizeEmail(s string) (string, error) {
	a, err := mail.ParseAddress(s)
	if err != nil || a.Name != "" || a.Address != s || !strings.Contains(s, "@") {
		return "", fmt.Errorf("%q is not an e-mail address", s)
	}
	return strings.ToLower(s), nil
}

// normalizeSendAs checks each address or @domain and lower-cases the
// domains; the local part of an address is kept as written (RFC 5321
// §2.4 lets it be case-sensitive). Duplicates are dropped.
func normalizeSendAs(list []string) ([]string, error) {
	var out []string
	for _, s := range list {
		n, err := normalizeSender(s)
		if err != nil {
			return nil, err
		}
		if !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	return out, nil
}

func normalizeSender(s string) (string, error) {
	if d, ok := strings.CutPrefix(s, "@"); ok {
		if !validDomain(d) {
			return "", fmt.Errorf("send-as %q is not @ followed by a domain", s)
		}
		return "@" + strings.ToLower(d), nil
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Name != "" || a.Address != s {
		return "", fmt.Errorf("send-as %q is neither an e-mail address nor @domain", s)
	}
	at := strings.LastIndexByte(s, '@')
	return s[:at+1] + strings.ToLower(s[at+1:]), nil
}

// validDomain accepts dot-separated labels of letters, digits and hyphens
// (RFC 5321 §4.1.2 Domain).
func validDomain(d string) bool {
	if d == "" || len(d) > 253 {
		return false
	}
	for _, l := range strings.Split(d, ".") {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for _, r := range l {
			if !(r == '-' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
				return false
			}
		}
	}
	return true
}
