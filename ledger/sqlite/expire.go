package sqlite

import (
	"context"
	"fmt"
	"time"

	"github.com/dncgate/dncgate/ledger"
	"github.com/dncgate/dncgate/ledger/ledgersql"
)

// Expire drops the month tables whose every row has expired and deletes
// the expired rows of the month on the boundary; then the audit trail.
func (l *Ledger) Expire(ctx context.Context, now time.Time) (ledger.Expired, error) {
	var ex ledger.Expired
	sent, refused, audit := l.ret.Cutoffs(now)
	tabs, err := l.tables(ctx, l.w)
	if err != nil {
		return ex, fmt.Errorf("ledger: expire: %w", err)
	}
	for _, t := range tabs {
		if err := l.expireTable(ctx, t, sent, refused, &ex); err != nil {
			return ex, fmt.Errorf("ledger: expire %s: %w", t, err)
		}
	}
	if err := l.expireRollup(ctx, sent, refused, ex); err != nil {
		return ex, fmt.Errorf("ledger: expire rollup: %w", err)
	}
	res, err := l.w.ExecContext(ctx, "DELETE FROM audit WHERE at < ?", tc.Value(audit))
	if err != nil {
		return ex, fmt.Errorf("ledger: expire audit: %w", err)
	}
	ex.Audit, _ = res.RowsAffected()
	return ex, nil
}

func (l *Ledger) expireTable(ctx context.Context, t string, sent, refused time.Time, ex *ledger.Expired) error {
	m, ok := monthOf(t)
	if !ok {
		return nil
	}
	end := m.AddDate(0, 1, 0)
	if !end.After(sent) && !end.After(refused) {
		return l.dropTable(ctx, t, ex)
	}
	n, err := l.deleteRows(ctx, "DELETE FROM "+t+" WHERE verdict = 'allowed' AND at < ?", m, sent)
	if err != nil {
		return err
	}
	ex.Sent += n
	n, err = l.deleteRows(ctx, "DELETE FROM "+t+" WHERE verdict <> 'allowed' AND at < ?", m, refused)
	ex.Refused += n
	return err
}

// deleteRows runs del when the cutoff falls inside or after the month.
func (l *Ledger) deleteRows(ctx context.Context, del string, month, cutoff time.Time) (int64, error) {
	if !cutoff.After(month) {
		return 0, nil
	}
	res, err := l.w.ExecContext(ctx, del, tc.Value(cutoff))
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// dropTable counts the rows per kind, for the log, and drops the month.
func (l *Ledger) dropTable(ctx context.Context, t string, ex *ledger.Expired) error {
	var sent, other int64
	err := l.w.QueryRowContext(ctx, "SELECT COALESCE(SUM(verdict = 'allowed'), 0), COALESCE(SUM(verdict <> 'allowed'), 0) FROM "+t).Scan(&sent, &other)
	if err != nil {
		return err
	}
	if _, err := l.w.ExecContext(ctx, "DROP TABLE "+t); err != nil {
		return err
	}
	l.forget(t)
	ex.Sent, ex.Refused, ex.Partitions = ex.Sent+sent, ex.Refused+other, ex.Partitions+1
	return nil
}

// Erase deletes the refusals about rcpt and keeps its sent decisions
// without the address: the record that the lists were consulted before
// the send stays, whose it was does not.
func (l *Ledger) Erase(ctx context.Context, rcpt ledger.Digest) (ledger.Erased, error) {
	er, err := l.erase(ctx, rcpt)
	if err != nil {
		return ledger.Erased{}, fmt.Errorf("ledger: erase: %w", err)
	}
	return er, nil
}

// erase does Erase in one transaction, the rollup of the days whose
// refusals it deletes recounted in it.
func (l *Ledger) erase(ctx context.Context, rcpt ledger.Digest) (er ledger.Erased, err error) {
	tx, err := l.w.BeginTx(ctx, nil)
	if err != nil {
		return er, err
	}
	defer tx.Rollback()
	tabs, err := l.tables(ctx, tx)
	if err != nil {
		return er, err
	}
	for _, t := range tabs {
		days, err := refusalDays(ctx, tx, t, rcpt)
		if err != nil {
			return er, err
		}
		res, err := tx.ExecContext(ctx, "DELETE FROM "+t+" WHERE rcpt_digest = ? AND verdict <> 'allowed'", rcpt[:])
		if err != nil {
			return er, err
		}
		n, _ := res.RowsAffected()
		er.Deleted += n
		res, err = tx.ExecContext(ctx, "UPDATE "+t+" SET rcpt_masked = ?, rcpt_digest = NULL, subject = '' WHERE rcpt_digest = ?",
			ledgersql.Erased, rcpt[:])
		if err != nil {
			return er, err
		}
		n, _ = res.RowsAffected()
		er.Anonymised += n
		for _, d := range days {
			if err := recount(ctx, tx, d, ledgersql.Refusals); err != nil {
				return er, err
			}
		}
	}
	return er, tx.Commit()
}
