package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dncgate/dncgate/ledger"
	"github.com/dncgate/dncgate/ledger/ledgersql"
)

// dayExpr is the UTC day of a stored time.
const dayExpr = "floor(extract(epoch FROM at) / 86400)::bigint"

// ensureRollup creates the per-day rollup when the database has none (a
// new ledger, or one written before the rollup existed) and fills it from
// the records, under the schema lock of tx.
func ensureRollup(ctx context.Context, tx pgx.Tx) error {
	var exists bool
	if err := tx.QueryRow(ctx, "SELECT to_regclass($1) IS NOT NULL", ledgersql.RollupTable).Scan(&exists); err != nil || exists {
		return err
	}
	if _, err := tx.Exec(ctx, ledgersql.RollupDDL); err != nil {
		return fmt.Errorf("rollup: %w", err)
	}
	_, err := tx.Exec(ctx, "INSERT INTO "+ledgersql.RollupTable+" SELECT "+dayExpr+
		", rep, verdict, reason, count(*) FROM decisions GROUP BY 1, 2, 3, 4")
	if err != nil {
		return fmt.Errorf("rollup: %w", err)
	}
	return nil
}

var bumpRollup = ledgersql.Rebind(ledgersql.BumpRollup)

// bump adds what one write inserted to the rollup, in the write's
// transaction, rows in key order so that instances writing at once take
// the rows' locks in one order.
func bump(ctx context.Context, tx pgx.Tx, r ledger.Rollup) error {
	if len(r) == 0 {
		return nil
	}
	b := &pgx.Batch{}
	for _, row := range r.Rows() {
		b.Queue(bumpRollup, ledgersql.BumpArgs(row)...)
	}
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("rollup: %w", err)
	}
	return nil
}

// recount rewrites the rollup of day for the rows matching class
// (ledgersql.Sends or Refusals) from the records that remain.
func recount(ctx context.Context, tx pgx.Tx, day ledger.Day, class string) error {
	if _, err := tx.Exec(ctx, "DELETE FROM "+ledgersql.RollupTable+" WHERE "+class+" AND day = $1", int64(day)); err != nil {
		return err
	}
	_, err := tx.Exec(ctx, "INSERT INTO "+ledgersql.RollupTable+" SELECT $1, rep, verdict, reason, count(*) FROM decisions"+
		" WHERE "+class+" AND at >= $2 AND at < $3 GROUP BY rep, verdict, reason",
		int64(day), day.Time(), (day + 1).Time())
	return err
}

// expireRollup forgets the days before each cutoff and, when Expire
// deleted rows of a class, recounts the cutoff's day, which lost part of
// its records.
func (l *Ledger) expireRollup(ctx context.Context, sent, refused time.Time, ex ledger.Expired) error {
	return pgx.BeginFunc(ctx, l.pool, func(tx pgx.Tx) error {
		for _, c := range []struct {
			class   string
			cutoff  time.Time
			deleted int64
		}{{ledgersql.Sends, sent, ex.Sent}, {ledgersql.Refusals, refused, ex.Refused}} {
			day := ledger.DayOf(c.cutoff)
			if _, err := tx.Exec(ctx, "DELETE FROM "+ledgersql.RollupTable+" WHERE "+c.class+" AND day < $1", int64(day)); err != nil {
				return err
			}
			if c.deleted > 0 {
				if err := recount(ctx, tx, day, c.class); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// DailyCounts reads q's rollup rows.
func (l *Ledger) DailyCounts(ctx context.Context, q ledger.TrendQuery) ([]ledger.DayCount, error) {
	query, args := ledgersql.ReadRollup(q)
	return l.counts(ctx, query, args)
}

// TrendCounts reads q's rollup summed per day and per rep.
func (l *Ledger) TrendCounts(ctx context.Context, q ledger.TrendQuery) (ledger.TrendCounts, error) {
	var c ledger.TrendCounts
	var err error
	query, args := ledgersql.ReadTrendDays(q)
	if c.Days, err = l.counts(ctx, query, args); err != nil {
		return c, err
	}
	query, args = ledgersql.ReadTrendReps(q)
	c.Reps, err = l.counts(ctx, query, args)
	return c, err
}

func (l *Ledger) counts(ctx context.Context, query string, args []any) ([]ledger.DayCount, error) {
	rows, err := l.pool.Query(ctx, ledgersql.Rebind(query), args...)
	if err != nil {
		return nil, fmt.Errorf("ledger: trends: %w", err)
	}
	defer rows.Close()
	var out []ledger.DayCount
	for rows.Next() {
		c, err := ledgersql.ScanDayCount(rows)
		if err != nil {
			return nil, fmt.Errorf("ledger: trends: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// insertAll sends the queued inserts and returns the rollup of those
// that inserted (a replayed record inserts nothing).
func insertAll(ctx context.Context, tx pgx.Tx, b *pgx.Batch, queued []ledger.Decision) (ledger.Rollup, error) {
	br := tx.SendBatch(ctx, b)
	roll := ledger.Rollup{}
	for _, d := range queued {
		tag, err := br.Exec()
		if err != nil {
			br.Close()
			return nil, err
		}
		if tag.RowsAffected() == 1 {
			roll.Add(d)
		}
	}
	return roll, br.Close()
}

// eraseRefusals deletes the refusals about rcpt and returns their days.
func eraseRefusals(ctx context.Context, tx pgx.Tx, rcpt ledger.Digest, er *ledger.Erased) ([]ledger.Day, error) {
	rows, err := tx.Query(ctx, "DELETE FROM decisions WHERE rcpt_digest = $1 AND "+ledgersql.Refusals+" RETURNING "+dayExpr, rcpt[:])
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	seen := map[ledger.Day]bool{}
	var days []ledger.Day
	for rows.Next() {
		var d int64
		if err := rows.Scan(&d); err != nil {
			return nil, err
		}
		er.Deleted++
		if !seen[ledger.Day(d)] {
			seen[ledger.Day(d)] = true
			days = append(days, ledger.Day(d))
		}
	}
	return days, rows.Err()
}
