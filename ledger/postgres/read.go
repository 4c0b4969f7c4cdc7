package postgres

import (
	"context"
	"fmt"
	"strconv"

	"github.com/dncgate/dncgate/ledger"
	"github.com/dncgate/dncgate/ledger/ledgersql"
)

// Query returns one page, newest first; the planner merges the
// partitions' index scans.
func (l *Ledger) Query(ctx context.Context, q ledger.Query) (ledger.Page, error) {
	q, cur, err := q.Normalise()
	if err != nil {
		return ledger.Page{}, err
	}
	w := ledgersql.Filters(q, cur, tc)
	sql := ledgersql.Rebind("SELECT " + ledgersql.Columns + " FROM decisions" + w.SQL() +
		ledgersql.OrderNewest + " LIMIT " + strconv.Itoa(q.Limit))
	// A page is read whole: sized once, it is not copied as it grows.
	out, err := l.scan(ctx, make([]ledger.Decision, 0, q.Limit), sql, w.Args...)
	if err != nil {
		return ledger.Page{}, fmt.Errorf("ledger: query: %w", err)
	}
	return ledger.Page{Decisions: out, Next: ledger.NextPage(out, q.Limit)}, nil
}

func (l *Ledger) scan(ctx context.Context, out []ledger.Decision, sql string, args ...any) ([]ledger.Decision, error) {
	rows, err := l.pool.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	row := ledgersql.NewRow(tc)
	for rows.Next() {
		d, err := row.Scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// Transaction returns every decision of ref, oldest first.
func (l *Ledger) Transaction(ctx context.Context, ref string) ([]ledger.Decision, error) {
	out, err := l.scan(ctx, nil, "SELECT "+ledgersql.Columns+" FROM decisions WHERE ref = $1 ORDER BY at, id", ref)
	if err != nil {
		return nil, fmt.Errorf("ledger: transaction: %w", err)
	}
	return out, nil
}

// Audits returns audit events, newest first.
func (l *Ledger) Audits(ctx context.Context, q ledger.AuditQuery) ([]ledger.AuditEvent, error) {
	if q.Limit <= 0 {
		q.Limit = ledger.DefaultLimit
	}
	w := ledgersql.AuditFilters(q, tc)
	rows, err := l.pool.Query(ctx, ledgersql.Rebind("SELECT "+ledgersql.AuditColumns+" FROM audit"+w.SQL()+
		ledgersql.OrderNewest+" LIMIT "+strconv.Itoa(q.Limit)), w.Args...)
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
