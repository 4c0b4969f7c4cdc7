package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
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
	conn, err := l.writer(ctx, syncRecords)
	if err != nil {
		return err
	}
	defer release(conn)
	tx, err := conn.BeginTx(ctx, nil)
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

// How each kind of write reaches the disk. A record must survive a power
// loss before its copy leaves: its commit waits for the WAL's fsync. An
// outcome comes after the send, and one lost leaves its record reading
// "unknown", as a crash between the send and the outcome does anyway: its
// commit does not wait, and the next record's fsync, or the checkpoint,
// takes it to the disk. That spares every message its second fsync.
const (
	syncRecords  = "FULL"
	syncOutcomes = "NORMAL"
)

// writer is the writer connection, held for one batch, with synchronous
// set for what the batch writes: held, so the other writer cannot change
// it between the pragma and the commit.
func (l *Ledger) writer(ctx context.Context, sync string) (*sql.Conn, error) {
	conn, err := l.w.Conn(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := conn.ExecContext(ctx, "PRAGMA synchronous = "+sync); err != nil {
		conn.Close()
		return nil, err
	}
	return conn, nil
}

// release gives the writer connection back at synchronous = FULL, what
// every other write on it (audit events, erasures) needs. One that cannot
// be set back is discarded, and the pool opens a new one, at FULL by its
// DSN.
func release(conn *sql.Conn) {
	if _, err := conn.ExecContext(context.Background(), "PRAGMA synchronous = "+syncRecords); err != nil {
		_ = conn.Raw(func(any) error { return driver.ErrBadConn })
	}
	conn.Close()
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
