package metrics

import (
	"context"
	"errors"
	"time"

	"github.com/dncgate/dncgate/ledger"
)

// Wrap returns backend with each write timed and each expiry's deletions
// counted. It goes between the backend and the spool,
//
//	ledger.NewSpooled(m.Wrap(backend), spool)
//
// so that a write the backend refuses counts as an error even though the
// spool then takes it. Reads pass through untimed.
func (l *Ledger) Wrap(backend ledger.Ledger) ledger.Ledger {
	if l == nil {
		return backend
	}
	return &timedLedger{Ledger: backend, m: l}
}

type timedLedger struct {
	ledger.Ledger
	m *Ledger
}

func (t *timedLedger) Record(ctx context.Context, ds []ledger.Decision) error {
	start := time.Now()
	err := t.Ledger.Record(ctx, ds)
	t.m.Wrote(LedgerRecord, time.Since(start), err)
	return err
}

// SetOutcome: no such decision (erased or expired meanwhile) is an answer,
// not a failed write.
func (t *timedLedger) SetOutcome(ctx context.Context, ref string, rcpt ledger.Digest, o ledger.Outcome) error {
	start := time.Now()
	err := t.Ledger.SetOutcome(ctx, ref, rcpt, o)
	failed := err
	if errors.Is(err, ledger.ErrNotFound) {
		failed = nil
	}
	t.m.Wrote(LedgerOutcome, time.Since(start), failed)
	return err
}

func (t *timedLedger) Audit(ctx context.Context, e ledger.AuditEvent) error {
	start := time.Now()
	err := t.Ledger.Audit(ctx, e)
	t.m.Wrote(LedgerAudit, time.Since(start), err)
	return err
}

func (t *timedLedger) Expire(ctx context.Context, now time.Time) (ledger.Expired, error) {
	ex, err := t.Ledger.Expire(ctx, now)
	t.m.Deleted(ledger.KindSent, ex.Sent)
	t.m.Deleted(ledger.KindRefused, ex.Refused)
	t.m.Deleted(ledger.KindAudit, ex.Audit)
	return ex, err
}
