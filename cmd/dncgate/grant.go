package main

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/dncgate/dncgate/config"
	"github.com/dncgate/dncgate/store"
)

func (a *app) usersGrant(ctx context.Context, args []string) error {
	return a.changeSendAs(ctx, args, "grant", "Let a user send as more addresses or @domains.",
		func(usr *store.User, list []string) error {
			for _, s := range list {
				if !slices.Contains(usr.SendAs, s) {
					usr.SendAs = append(usr.SendAs, s)
				}
			}
			return nil
		})
}

func (a *app) usersRevoke(ctx context.Context, args []string) error {
	return a.changeSendAs(ctx, args, "revoke", "Take send-as addresses or @domains from a user.",
		func(usr *store.User, list []string) error {
			for _, s := range list {
				i := slices.Index(usr.SendAs, s)
				if i < 0 {
					return fmt.Errorf("has no send-as %s to revoke", s)
				}
				usr.SendAs = slices.Delete(usr.SendAs, i, i+1)
			}
			return nil
		})
}

// changeSendAs parses EMAIL --send-as … and applies change to the user.
func (a *app) changeSendAs(ctx context.Context, args []string, name, summary string, change func(*store.User, []string) error) error {
	u := a.newUsersCmd(name, "EMAIL", summary)
	var sendAs listFlag
	u.fs.Var(&sendAs, "send-as", "`ADDR` or @DOMAIN; repeatable, at least one")
	email, err := u.parseEmail(args)
	if err != nil {
		return err
	}
	if len(sendAs) == 0 {
		return u.fs.usageError("give at least one --send-as")
	}
	list, err := normalizeSendAs(sendAs)
	if err != nil {
		return u.fs.usageError("user %s: %v", email, err)
	}
	return u.withConfigStore(ctx, func(cfg *config.Config, st backend) error {
		changed, err := updateUser(ctx, st, email, func(usr *store.User) error { return change(usr, list) })
		if err != nil {
			return err
		}
		fmt.Fprintf(a.stdout, "%s may send as: %s\n", email, strings.Join(changed.SendAs, ", "))
		return recordAudit(ctx, cfg, userEvent(name+" "+strings.Join(list, ","), changed))
	})
}
