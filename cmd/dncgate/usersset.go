package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/dncgate/dncgate/accounts"
	"github.com/dncgate/dncgate/config"
	"github.com/dncgate/dncgate/store"
)

func (a *app) usersSet(ctx context.Context, args []string) error {
	u := a.newUsersCmd("set", "EMAIL", "Change a user's role, or replace their whole send-as list (grant and revoke\n"+
		"add or take single entries). The only enabled admin cannot be demoted.")
	role := u.fs.String("role", "", "new `ROLE`: rep, manager or admin")
	var sendAs listFlag
	u.fs.Var(&sendAs, "send-as", "`ADDR` or @DOMAIN the user may send as, replacing the list; repeatable")
	email, err := u.parseEmail(args)
	if err != nil {
		return err
	}
	if *role == "" && len(sendAs) == 0 {
		return u.fs.usageError("give --role or --send-as")
	}
	var r store.Role
	if *role != "" {
		if r, err = accounts.ParseRole(*role); err != nil {
			return u.fs.usageError("user %s: %v", email, err)
		}
	}
	list, err := accounts.ParseSendAs(sendAs)
	if err != nil {
		return u.fs.usageError("user %s: %v", email, err)
	}
	return u.withConfigStore(ctx, func(cfg *config.Config, st backend) error {
		var what []string
		changed, err := updateUser(ctx, st, email, func(usr *store.User) error {
			if r != "" && r != usr.Role {
				usr.Role = r
				what = append(what, "role "+string(r))
			}
			if len(list) > 0 {
				usr.SendAs = list
				what = append(what, "send-as "+strings.Join(list, ","))
			}
			return nil
		})
		if err != nil {
			return lastAdminHint(err)
		}
		fmt.Fprintf(a.stdout, "%s: role %s, send-as %s\n", changed.Email, changed.Role, strings.Join(changed.SendAs, ", "))
		return recordAudit(ctx, cfg, userEvent("set "+strings.Join(what, "; "), changed))
	})
}

func (a *app) usersDisable(ctx context.Context, args []string) error {
	u := a.newUsersCmd("disable", "EMAIL", "Disable a user: every login is refused (SMTP AUTH, the check and opt-out APIs,\n"+
		"the console) as a wrong password is, and their console sessions end at once.\n"+
		"The account, its send-as list and second factor are kept; enable undoes it.\n"+
		"The only enabled admin cannot be disabled.")
	email, err := u.parseEmail(args)
	if err != nil {
		return err
	}
	return u.withConfigStore(ctx, func(cfg *config.Config, st backend) error {
		by := operator("")
		changed, err := updateUser(ctx, st, email, func(usr *store.User) error {
			accounts.Disable(usr, by, time.Now())
			return nil
		})
		if changed.Email != "" && err != nil { // disabled, the sessions not deleted
			fmt.Fprintf(a.stderr, "warning: %v\n", err)
		} else if err != nil {
			return lastAdminHint(err)
		}
		fmt.Fprintf(a.stdout, "disabled %s\n", email)
		return recordAudit(ctx, cfg, userEvent("disable", changed))
	})
}

func (a *app) usersEnable(ctx context.Context, args []string) error {
	u := a.newUsersCmd("enable", "EMAIL", "Enable a disabled user: their logins are accepted again.")
	email, err := u.parseEmail(args)
	if err != nil {
		return err
	}
	return u.withConfigStore(ctx, func(cfg *config.Config, st backend) error {
		changed, err := updateUser(ctx, st, email, func(usr *store.User) error {
			accounts.Enable(usr)
			return nil
		})
		if err != nil {
			return err
		}
		fmt.Fprintf(a.stdout, "enabled %s\n", email)
		return recordAudit(ctx, cfg, userEvent("enable", changed))
	})
}

// lastAdminHint says what to do when a change would leave no admin.
func lastAdminHint(err error) error {
	if errors.Is(err, accounts.ErrLastAdmin) {
		return fmt.Errorf("%w: add or enable another admin first", err)
	}
	return err
}
