package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/dncgate/dncgate/config"
	"github.com/dncgate/dncgate/ledger"
	"github.com/dncgate/dncgate/store"
)

// usersTOTPReset removes a user's second factor, for a lost phone: their
// console sessions end, and the next login asks them to enrol again.
func (a *app) usersTOTPReset(ctx context.Context, args []string) error {
	u := a.newUsersCmd("totp-reset", "EMAIL", "Remove a user's second factor (TOTP and recovery codes) and end their console\nsessions; a manager or an admin enrols a new one at their next login.")
	email, err := u.parseEmail(args)
	if err != nil {
		return err
	}
	return u.withConfigStore(ctx, func(cfg *config.Config, st backend) error {
		if _, err := st.User(ctx, email); errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("no user %s", email)
		} else if err != nil {
			return fmt.Errorf("reading user %s: %w", email, err)
		}
		if err := st.DeleteSecondFactor(ctx, email); err != nil {
			return fmt.Errorf("removing the second factor of %s: %w", email, err)
		}
		n, err := st.DeleteUserSessions(ctx, email)
		if err != nil {
			return fmt.Errorf("ending the console sessions of %s: %w", email, err)
		}
		fmt.Fprintf(a.stdout, "removed the second factor of %s; %d console sessions ended\n", email, n)
		return recordAudit(ctx, cfg, ledger.AuditEvent{Actor: operator(""), Action: ledger.ActTOTPReset, Object: email,
			Details: map[string]string{"sessions": strconv.Itoa(n), "source": "cli"}})
	})
}
