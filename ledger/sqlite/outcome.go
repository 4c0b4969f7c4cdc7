package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/dncgate/dncgate/ledger"
)

// outcomeReq is one SetOutcome.
type outcomeReq struct {
	ref  string
	rcpt ledger.Digest
	o    ledger.Outcome
}

// applyOutcome updates the record of r in tx, trying the month tables
// tabs (each with its statement in st) newest first (the record is nearly always in the newest). It returns
// ledger.ErrNotFound for r when no table holds the record, and a second
// error when the transaction must fail.
func (l *Ledger) applyOutcome(ctx context.Context, tx *sql.Tx, st map[string]*sql.Stmt, tabs []string, r outcomeReq) (notFound, err error) {
	var at any
	if !r.o.At.IsZero() {
		at = tc.Value(r.o.At)
	}
	for _, t := range tabs {
		res, err := tx.StmtContext(ctx, st[updateSQL(t)]).ExecContext(ctx, string(r.o.Kind), r.o.Reply, at, r.ref, r.rcpt[:])
		if err != nil {
			l.forget(t) // dropped by another process: list the tables again
			return nil, fmt.Errorf("ledger: set outcome: %w", err)
		}
		if n, _ := res.RowsAffected(); n > 0 {
			return nil, nil
		}
	}
	return ledger.ErrNotFound, nil
}

// monthTables lists the month tables newest first, read once and again
// only after this process made or dropped one (or a write to one failed).
func (l *Ledger) monthTables(ctx context.Context) ([]string, error) {
	l.mu.Lock()
	tabs := l.tabs
	l.mu.Unlock()
	if tabs != nil {
		return tabs, nil
	}
	tabs, err := l.tables(ctx, l.w)
	if err != nil {
		return nil, err
	}
	if tabs == nil {
		tabs = []string{}
	}
	l.mu.Lock()
	l.tabs = tabs
	l.mu.Unlock()
	return tabs, nil
}

// updateSQL finds the record by its reference, through the reference's
// index: the unary + keeps SQLite's planner, which has no statistics on
// a fresh table, from taking the digest's index instead, where a
// recipient written to many times (a bench's one recipient, a colleague's
// address) is a range that grows with every record, each outcome then
// reading it all.
func updateSQL(t string) string {
	return "UPDATE " + t + " SET outcome = ?, reply = ?, outcome_at = ? WHERE ref = ? AND +rcpt_digest = ?"
}
