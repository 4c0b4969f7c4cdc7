package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/dncgate/dncgate/ledger"
	"github.com/dncgate/dncgate/ledger/ledgersql"
)

// Record writes ds durably; a decision already recorded (same id) is
// left as it is, so a spool replay never doubles one.
func (l *Ledger) Record(ctx context.Context, ds []ledger.Decision) error {
	if len(ds) == 0 {
		return nil
	}
	ledger.Fill(ds)
	if err := l.gc.Submit(ctx, ds); err != nil {
		return fmt.Errorf("ledger: record: %w", err)
	}
	return nil
}

// writeBatch runs on the group commit's goroutine, the only writer of
// decisions.
func (l *Ledger) writeBatch(batch [][]ledger.Decision) error {
	ctx := context.Background()
	for _, ds := range batch {
		for _, d := range ds {
			if err := l.ensureTable(ctx, table(d.At)); err != nil {
				return err
			}
		}
	}
	tx, err := l.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	stmts := map[string]*sql.Stmt{}
	roll := ledger.Rollup{}
	for _, ds := range batch {
		for _, d := range ds {
			t := table(d.At)
			st := stmts[t]
			if st == nil {
				if st, err = tx.PrepareContext(ctx, "INSERT OR IGNORE INTO "+t+" ("+ledgersql.Columns+") VALUES ("+ledgersql.Placeholders+")"); err != nil {
					return err
				}
				stmts[t] = st
			}
			res, err := st.ExecContext(ctx, ledgersql.Args(d, tc)...)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 1 { // not a replay
				roll.Add(d)
			}
		}
	}
	if err := bumpRollup(ctx, tx, roll); err != nil {
		return err
	}
	return tx.Commit()
}

// ensureTable creates a month table the first time this process writes to
// it.
func (l *Ledger) ensureTable(ctx context.Context, t string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.made[t] {
		return nil
	}
	if _, err := l.w.ExecContext(ctx, tableDDL(t)); err != nil {
		return err
	}
	l.made[t] = true
	return nil
}

// forget drops t from the tables this process knows, after a DROP.
func (l *Ledger) forget(t string) {
	l.mu.Lock()
	delete(l.made, t)
	l.mu.Unlock()
}

// SetOutcome writes the outcome of one recipient, searching the newest
// months first: the outcome follows its record within seconds. Calls made
// at once share one commit.
func (l *Ledger) SetOutcome(ctx context.Context, ref string, rcpt ledger.Digest, o ledger.Outcome) error {
	if !o.Kind.Valid() {
		return fmt.Errorf("ledger: unknown outcome %q", o.Kind)
	}
	err := l.oc.Submit(ctx, outcomeReq{ref: ref, rcpt: rcpt, o: o})
	if err == nil || errors.Is(err, ledger.ErrNotFound) {
		return err
	}
	return fmt.Errorf("ledger: set outcome: %w", err)
}

// Audit appends e; an event already recorded (same id) is left alone.
func (l *Ledger) Audit(ctx context.Context, e ledger.AuditEvent) error {
	ledger.FillAudit(&e)
	_, err := l.w.ExecContext(ctx, "INSERT OR IGNORE INTO audit ("+ledgersql.AuditColumns+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
		ledgersql.AuditArgs(e, tc)...)
	if err != nil {
		return fmt.Errorf("ledger: audit: %w", err)
	}
	return nil
}
