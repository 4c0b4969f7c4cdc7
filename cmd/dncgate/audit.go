package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/dncgate/dncgate/accounts"
	"github.com/dncgate/dncgate/config"
	"github.com/dncgate/dncgate/ledger"
	"github.com/dncgate/dncgate/listimport"
	"github.com/dncgate/dncgate/lists"
	"github.com/dncgate/dncgate/store"
)

// recordAudit writes one event to the configured ledger's audit trail,
// after the change it records was made: the change stands, and a failure
// to record it is an error naming what is missing from the trail, so the
// command exits non-zero rather than leave a change unexplained.
func recordAudit(ctx context.Context, cfg *config.Config, e ledger.AuditEvent) error {
	if e.At.IsZero() {
		e.At = time.Now()
	}
	l, err := openLedger(ctx, cfg)
	if err == nil {
		err = l.Audit(ctx, e)
		if cerr := l.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		what := string(e.Action)
		if e.Object != "" {
			what += " of " + e.Object
		}
		return fmt.Errorf("the change is made, but the audit trail lacks it (%s by %s): %w", what, e.Actor, err)
	}
	return nil
}

// importEvent is the audit trail's record of a committed list import.
func importEvent(rep listimport.Report) ledger.AuditEvent { return rep.AuditEvent() }

// capResetEvent is the audit trail's record of a cap reset. A recipient's
// or rep's address is kept masked, with the recipient's keyed digest.
func capResetEvent(cfg *config.Config, capName, subject, who string) ledger.AuditEvent {
	e := ledger.AuditEvent{Actor: who, Action: ledger.ActCapReset, Object: capName, Details: map[string]string{"key": subject}}
	if strings.Contains(subject, "@") {
		e.Details["key"] = lists.MaskEmail(subject)
		if key, err := cfg.HMACKey(); err == nil {
			d := ledger.RcptDigest(key, subject)
			e.Digest = &d
		}
	}
	return e
}

// userEvent is the audit trail's record of a change to a user: what
// changed, the role and send-as addresses after it.
func userEvent(change string, u store.User) ledger.AuditEvent {
	return accounts.Event(operator(""), change, u)
}
