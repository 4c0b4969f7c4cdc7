package sqlite

import (
	"context"
	"fmt"
	"strconv"

	"github.com/dncgate/dncgate/ledger"
	"github.com/dncgate/dncgate/ledger/ledgersql"
)

// Query reads the month tables from the newest the query can reach down
// to its Since, each with the limit still unfilled, and stops at a full
// page.
func (l *Ledger) Query(ctx context.Context, q ledger.Query) (ledger.Page, error) {
	q, cur, err := q.Normalise()
	if err != nil {
		return ledger.Page{}, err
	}
	tabs, err := l.tables(ctx, l.r)
	if err != nil {
		return ledger.Page{}, fmt.Errorf("ledger: query: %w", err)
	}
	w := ledgersql.Filters(q, cur, tc)
	// A page is read whole: sized once, it is not copied as it grows.
	out := make([]ledger.Decision, 0, q.Limit)
	for _, t := range tabs {
		if !inRange(t, q, cur) {
			continue
		}
		if len(out) >= q.Limit {
			break
		}
		sql := "SELECT " + ledgersql.Columns + " FROM " + t + w.SQL() + ledgersql.OrderNewest +
			" LIMIT " + strconv.Itoa(q.Limit-len(out))
		if out, err = l.scan(ctx, out, sql, w.Args...); err != nil {
			return ledger.Page{}, fmt.Errorf("ledger: query: %w", err)
		}
	}
	return ledger.Page{Decisions: out, Next: ledger.NextPage(out, q.Limit)}, nil
}

// inRange: could table t hold rows of q after the cursor?
func inRange(t string, q ledger.Query, cur *ledger.Cursor) bool {
	m, ok := monthOf(t)
	if !ok {
		return false
	}
	end := m.AddDate(0, 1, 0)
	if !q.Since.IsZero() && !end.After(q.Since) {
		return false
	}
	if !q.Until.IsZero() && !m.Before(q.Until) {
		return false
	}
	return cur == nil || !m.After(cur.At)
}

func (l *Ledger) scan(ctx context.Context, out []ledger.Decision, query string, args ...any) ([]ledger.Decision, error) {
	rows, err := l.r.QueryContext(ctx, query, args...)
	if err != nil {
		return out, err
	}
	defer rows.Close()
	row := ledgersql.NewRow(tc)
	for rows.Next() {
		d, err := row.Scan(rows)
		if err != nil {
			return out, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// Transaction returns every decision of ref, oldest first.
func (l *Ledger) Transaction(ctx context.Context, ref string) ([]ledger.Decision, error) {
	tabs, err := l.tables(ctx, l.r)
	if err != nil {
		return nil, fmt.Errorf("ledger: transaction: %w", err)
	}
	var out []ledger.Decision
	// Oldest table first, so the result is in time order.
	for i := len(tabs) - 1; i >= 0; i-- {
		q := "SELECT " + ledgersql.Columns + " FROM " + tabs[i] + " WHERE ref = ? ORDER BY at, id"
		if out, err = l.scan(ctx, out, q, ref); err != nil {
			return nil, fmt.Errorf("ledger: transaction: %w", err)
		}
	}
	return out, nil
}

// Audits returns audit events, newest first.
func (l *Ledger) Audits(ctx context.Context, q ledger.AuditQuery) ([]ledger.AuditEvent, error) {
	if q.Limit <= 0 {
		q.Limit = ledger.DefaultLimit
	}
	w := ledgersql.AuditFilters(q, tc)
	rows, err := l.r.QueryContext(ctx, "SELECT "+ledgersql.AuditColumns+" FROM audit"+w.SQL()+
		ledgersql.OrderNewest+" LIMIT "+strconv.Itoa(q.Limit), w.Args...)
	if err != nil {
		return nil, fmt.Errorf("ledger: audits: %w", err)
	}
	defer rows.Close()
	var out []ledger.AuditEvent
	for rows.Next() {
		e, err := ledgersql.ScanAudit(rows, tc)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}
