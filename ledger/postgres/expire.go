package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dncgate/dncgate/ledger"
	"github.com/dncgate/dncgate/ledger/ledgersql"
)

// Expire creates the partitions ahead, drops the months whose every row
// has expired and deletes the expired rows of the boundary months.
func (l *Ledger) Expire(ctx context.Context, now time.Time) (ledger.Expired, error) {
	var ex ledger.Expired
	if err := l.ensureAhead(ctx, now); err != nil {
		return ex, fmt.Errorf("ledger: expire: %w", err)
	}
	sent, refused, audit := l.ret.Cutoffs(now)
	months, err := l.months(ctx, "decisions")
	if err != nil {
		return ex, fmt.Errorf("ledger: expire: %w", err)
	}
	for _, m := range months {
		if err := l.expireMonth(ctx, m, sent, refused, &ex); err != nil {
			return ex, fmt.Errorf("ledger: expire %s: %w", m.Format("2006-01"), err)
		}
	}
	if err := l.expireRollup(ctx, sent, refused, ex); err != nil {
		return ex, fmt.Errorf("ledger: expire rollup: %w", err)
	}
	if ex.Audit, err = l.expireAudit(ctx, audit, &ex); err != nil {
		return ex, fmt.Errorf("ledger: expire audit: %w", err)
	}
	return ex, nil
}

// months lists the months that have a partition of parent.
func (l *Ledger) months(ctx context.Context, parent string) ([]time.Time, error) {
	rows, err := l.pool.Query(ctx, `SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
		WHERE i.inhparent = $1::regclass ORDER BY c.relname`, parent)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []time.Time
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return nil, err
		}
		if m, err := time.Parse(parent+"_200601", name); err == nil {
			out = append(out, m)
		}
	}
	return out, rows.Err()
}

func (l *Ledger) expireMonth(ctx context.Context, m, sent, refused time.Time, ex *ledger.Expired) error {
	end, part := m.AddDate(0, 1, 0), partition("decisions", m)
	if !end.After(sent) && !end.After(refused) {
		var s, r int64
		err := l.pool.QueryRow(ctx, "SELECT count(*) FILTER (WHERE verdict = 'allowed'), count(*) FILTER (WHERE verdict <> 'allowed') FROM "+part).Scan(&s, &r)
		if err != nil {
			return err
		}
		if err := l.drop(ctx, m, part); err != nil {
			return err
		}
		ex.Sent, ex.Refused, ex.Partitions = ex.Sent+s, ex.Refused+r, ex.Partitions+1
		return nil
	}
	n, err := l.deleteRows(ctx, "DELETE FROM "+part+" WHERE verdict = 'allowed' AND at < $1", m, sent)
	if err != nil {
		return err
	}
	ex.Sent += n
	n, err = l.deleteRows(ctx, "DELETE FROM "+part+" WHERE verdict <> 'allowed' AND at < $1", m, refused)
	ex.Refused += n
	return err
}

func (l *Ledger) expireAudit(ctx context.Context, cutoff time.Time, ex *ledger.Expired) (int64, error) {
	months, err := l.months(ctx, "audit")
	if err != nil {
		return 0, err
	}
	var total int64
	for _, m := range months {
		part := partition("audit", m)
		if !m.AddDate(0, 1, 0).After(cutoff) {
			var n int64
			if err := l.pool.QueryRow(ctx, "SELECT count(*) FROM "+part).Scan(&n); err != nil {
				return total, err
			}
			if _, err := l.pool.Exec(ctx, "DROP TABLE "+part); err != nil {
				return total, err
			}
			l.forget(m)
			total, ex.Partitions = total+n, ex.Partitions+1
			continue
		}
		n, err := l.deleteRows(ctx, "DELETE FROM "+part+" WHERE at < $1", m, cutoff)
		if err != nil {
			return total, err
		}
		total += n
	}
	return total, nil
}

// drop drops a decisions partition; the month's audit partition stays
// (its retention is its own) but the cache forgets both so a record for
// that month recreates what is missing.
func (l *Ledger) drop(ctx context.Context, m time.Time, part string) error {
	if _, err := l.pool.Exec(ctx, "DROP TABLE "+part); err != nil {
		return err
	}
	l.forget(m)
	return nil
}

func (l *Ledger) deleteRows(ctx context.Context, del string, month, cutoff time.Time) (int64, error) {
	if !cutoff.After(month) {
		return 0, nil
	}
	tag, err := l.pool.Exec(ctx, del, cutoff)
	if err != nil {
		return 0, err
	}
	return tag.RowsAffected(), nil
}

// Erase deletes the refusals about rcpt and keeps its sent decisions
// without the address, as the SQLite ledger does.
func (l *Ledger) Erase(ctx context.Context, rcpt ledger.Digest) (ledger.Erased, error) {
	var er ledger.Erased
	err := pgx.BeginFunc(ctx, l.pool, func(tx pgx.Tx) error {
		days, err := eraseRefusals(ctx, tx, rcpt, &er)
		if err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, "UPDATE decisions SET rcpt_masked = $1, rcpt_digest = NULL, subject = '' WHERE rcpt_digest = $2",
			ledgersql.Erased, rcpt[:])
		if err != nil {
			return err
		}
		er.Anonymised = tag.RowsAffected()
		for _, d := range days {
			if err := recount(ctx, tx, d, ledgersql.Refusals); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return ledger.Erased{}, fmt.Errorf("ledger: erase: %w", err)
	}
	return er, nil
}
