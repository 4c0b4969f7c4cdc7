package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"time"

	"github.com/dncgate/dncgate/ledger"
	"github.com/dncgate/dncgate/ledger/ledgersql"
)

// queryer is a connection pool or a transaction.
type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// dayExpr is the UTC day of a stored time (Unix nanoseconds).
var dayExpr = "at / " + strconv.FormatInt(int64(24*time.Hour), 10)

// ensureRollup creates the per-day rollup when the file has none (a new
// ledger, or one written before the rollup existed) and fills it from
// the records, in one transaction: another process opening the file at
// the same time waits, then finds it made.
func (l *Ledger) ensureRollup(ctx context.Context) error {
	tx, err := l.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if n, err := tableCount(ctx, tx, ledgersql.RollupTable); err != nil || n > 0 {
		return err
	}
	if _, err := tx.ExecContext(ctx, ledgersql.RollupDDL+" WITHOUT ROWID"); err != nil {
		return fmt.Errorf("rollup: %w", err)
	}
	tabs, err := l.tables(ctx, tx)
	if err != nil {
		return err
	}
	for _, t := range tabs {
		if _, err := tx.ExecContext(ctx, "INSERT INTO "+ledgersql.RollupTable+" SELECT "+dayExpr+
			", rep, verdict, reason, count(*) FROM "+t+" GROUP BY 1, 2, 3, 4"); err != nil {
			return fmt.Errorf("rollup of %s: %w", t, err)
		}
	}
	return tx.Commit()
}

// bumpRollup adds what one write inserted to the rollup, in the write's
// transaction.
func (l *Ledger) bumpRollup(ctx context.Context, tx *sql.Tx, prep *sql.Stmt, r ledger.Rollup) error {
	if len(r) == 0 {
		return nil
	}
	st := tx.StmtContext(ctx, prep)
	for _, row := range r.Rows() {
		if _, err := st.ExecContext(ctx, ledgersql.BumpArgs(row)...); err != nil {
			return fmt.Errorf("rollup: %w", err)
		}
	}
	return nil
}

// recount rewrites the rollup of day for the rows matching class
// (ledgersql.Sends or Refusals) from the records that remain.
func recount(ctx context.Context, q queryer, day ledger.Day, class string) error {
	if _, err := q.ExecContext(ctx, "DELETE FROM "+ledgersql.RollupTable+" WHERE "+class+" AND day = ?", int64(day)); err != nil {
		return err
	}
	t := table(day.Time())
	if n, err := tableCount(ctx, q, t); err != nil || n == 0 {
		return err
	}
	_, err := q.ExecContext(ctx, "INSERT INTO "+ledgersql.RollupTable+" SELECT ?, rep, verdict, reason, count(*) FROM "+t+
		" WHERE "+class+" AND at >= ? AND at < ? GROUP BY rep, verdict, reason",
		int64(day), tc.Value(day.Time()), tc.Value((day + 1).Time()))
	return err
}

// tableCount is 1 when the table t exists, else 0.
func tableCount(ctx context.Context, q queryer, t string) (n int, err error) {
	err = q.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?", t).Scan(&n)
	return n, err
}

// expireRollup forgets the days before each cutoff and, when Expire
// deleted rows of a class, recounts the cutoff's day, which lost part of
// its records.
func (l *Ledger) expireRollup(ctx context.Context, sent, refused time.Time, ex ledger.Expired) error {
	tx, err := l.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for _, c := range []struct {
		class   string
		cutoff  time.Time
		deleted int64
	}{{ledgersql.Sends, sent, ex.Sent}, {ledgersql.Refusals, refused, ex.Refused}} {
		day := ledger.DayOf(c.cutoff)
		if _, err := tx.ExecContext(ctx, "DELETE FROM "+ledgersql.RollupTable+" WHERE "+c.class+" AND day < ?", int64(day)); err != nil {
			return err
		}
		if c.deleted > 0 {
			if err := recount(ctx, tx, day, c.class); err != nil {
				return err
			}
		}
	}
	return tx.Commit()
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
	rows, err := l.r.QueryContext(ctx, query, args...)
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

// refusalDays are the days of t holding refusals about rcpt.
func refusalDays(ctx context.Context, tx *sql.Tx, t string, rcpt ledger.Digest) ([]ledger.Day, error) {
	rows, err := tx.QueryContext(ctx, "SELECT DISTINCT "+dayExpr+" FROM "+t+" WHERE rcpt_digest = ? AND "+ledgersql.Refusals, rcpt[:])
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []ledger.Day
	for rows.Next() {
		var d int64
		if err := rows.Scan(&d); err != nil {
			return nil, err
		}
		out = append(out, ledger.Day(d))
	}
	return out, rows.Err()
}
