package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/dncgate/dncgate/ledger"
	"github.com/dncgate/dncgate/ledger/ledgersql"
)

// write is one call waiting on the writer: a Record's decisions, one
// outcome, or neither (a flush of the outcomes queued, see SetOutcome).
type write struct {
	ds  []ledger.Decision
	out *outcomeReq
}

// Record writes ds durably; a decision already recorded (same id) is
// left as it is, so a spool replay never doubles one.
func (l *Ledger) Record(ctx context.Context, ds []ledger.Decision) error {
	if len(ds) == 0 {
		return nil
	}
	ledger.Fill(ds)
	if err := l.wr.Submit(ctx, write{ds: ds}); err != nil {
		return fmt.Errorf("ledger: record: %w", err)
	}
	return nil
}

// writeBatch runs on the writer's goroutine, the only writer of
// decisions and outcomes: every call pending from every session goes into
// one transaction, records first and then outcomes, and one commit (one
// fsync of the WAL at synchronous = FULL when it holds records) makes
// them all durable. A failed transaction fails every call; an outcome
// whose record is not found gets ledger.ErrNotFound alone.
func (l *Ledger) writeBatch(batch []write) []error {
	queued := l.takeOutcomes()
	all := batch
	if len(queued) > 0 {
		all = append(all[:len(batch):len(batch)], make([]write, len(queued))...)
		for i := range queued {
			all[len(batch)+i].out = &queued[i].req
		}
	}
	errs := make([]error, len(all))
	if err := l.applyBatch(all, errs); err != nil {
		for i := range errs {
			errs[i] = err
		}
	}
	for i, q := range queued {
		q.done <- errs[len(batch)+i]
	}
	return errs[:len(batch)]
}

func (l *Ledger) applyBatch(batch []write, errs []error) error {
	ctx := context.Background()
	if !slices.ContainsFunc(batch, func(w write) bool { return len(w.ds) > 0 || w.out != nil }) {
		return nil // a flush that found nothing to write
	}
	st, tabs, err := l.prepareBatch(ctx, batch)
	if err != nil {
		return err
	}
	conn, lowered, err := l.writer(ctx, batch)
	if err != nil {
		return err
	}
	if lowered {
		defer release(conn)
	} else {
		defer conn.Close()
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	roll := ledger.Rollup{}
	for _, w := range batch {
		if err := l.insert(ctx, tx, st, w.ds, roll); err != nil {
			return err
		}
	}
	if err := l.bumpRollup(ctx, tx, st[ledgersql.BumpRollup], roll); err != nil {
		return err
	}
	for i, w := range batch {
		if w.out != nil {
			if errs[i], err = l.applyOutcome(ctx, tx, st, tabs, *w.out); err != nil {
				return err
			}
		}
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	l.commits.Add(1)
	return nil
}

// A batch with records commits at synchronous = FULL: a record must
// survive a power loss before its copy leaves, and the outcomes that
// share its commit ride on its fsync. A batch of outcomes alone commits
// without waiting for the disk: an outcome comes after the send, and one
// lost leaves its record reading "unknown", as a crash between the send
// and the outcome does anyway; the next records' fsync, or the
// checkpoint, takes it to the disk. So the session whose records come
// next never waits behind an outcome's fsync.
const (
	syncRecords  = "FULL"
	syncOutcomes = "NORMAL"
)

// writer is the pool's one connection, held for one batch, with
// synchronous set for what the batch writes: held, so that no other
// write (an audit event, an erasure) runs on it at NORMAL. lowered
// reports a connection set to NORMAL, which release must set back.
func (l *Ledger) writer(ctx context.Context, batch []write) (conn *sql.Conn, lowered bool, err error) {
	if conn, err = l.w.Conn(ctx); err != nil {
		return nil, false, err
	}
	if slices.ContainsFunc(batch, func(w write) bool { return len(w.ds) > 0 }) {
		return conn, false, nil // at FULL, as the pool opens it and release leaves it
	}
	if _, err := conn.ExecContext(ctx, "PRAGMA synchronous = "+syncOutcomes); err != nil {
		release(conn)
		return nil, false, err
	}
	return conn, true, nil
}

// release gives the connection back at synchronous = FULL, what every
// other write on it needs. One that cannot be set back is discarded, and
// the pool opens a new one, at FULL by its DSN.
func release(conn *sql.Conn) {
	if _, err := conn.ExecContext(context.Background(), "PRAGMA synchronous = "+syncRecords); err != nil {
		_ = conn.Raw(func(any) error { return driver.ErrBadConn })
	}
	conn.Close()
}

// prepareBatch makes the month tables the batch's records go to and
// returns every statement the batch runs, by query, and the month tables
// its outcomes are looked for in. They are prepared
// (once, then cached) before the transaction begins: the transaction
// holds the pool's one connection.
func (l *Ledger) prepareBatch(ctx context.Context, batch []write) (st map[string]*sql.Stmt, tabs []string, err error) {
	st = map[string]*sql.Stmt{}
	if err := l.prepare(ctx, st, ledgersql.BumpRollup); err != nil {
		return nil, nil, err
	}
	outcomes := false
	for _, w := range batch {
		for _, d := range w.ds {
			t := table(d.At)
			if err := l.ensureTable(ctx, t); err != nil {
				return nil, nil, err
			}
			if err := l.prepare(ctx, st, insertSQL(t)); err != nil {
				return nil, nil, err
			}
		}
		outcomes = outcomes || w.out != nil
	}
	if !outcomes {
		return st, nil, nil
	}
	// A table another process dropped since it was listed cannot be
	// prepared: list them again, once.
	for try := 0; ; try++ {
		if tabs, err = l.monthTables(ctx); err != nil {
			return nil, nil, err
		}
		if err = l.prepare(ctx, st, updates(tabs)...); err == nil || try == 1 {
			return st, tabs, err
		}
		l.forgetTables()
	}
}

// prepare puts the statements of queries into st.
func (l *Ledger) prepare(ctx context.Context, st map[string]*sql.Stmt, queries ...string) error {
	for _, q := range queries {
		if st[q] != nil {
			continue
		}
		p, err := l.stmts.Get(ctx, l.w, q)
		if err != nil {
			return err
		}
		st[q] = p
	}
	return nil
}

func updates(tabs []string) []string {
	qs := make([]string, len(tabs))
	for i, t := range tabs {
		qs[i] = updateSQL(t)
	}
	return qs
}

// insert adds ds to their month tables, counting in roll those that were
// not there already.
func (l *Ledger) insert(ctx context.Context, tx *sql.Tx, st map[string]*sql.Stmt, ds []ledger.Decision, roll ledger.Rollup) error {
	for _, d := range ds {
		res, err := tx.StmtContext(ctx, st[insertSQL(table(d.At))]).ExecContext(ctx, ledgersql.Args(d, tc)...)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 1 { // not a replay
			roll.Add(d)
		}
		l.rows.Add(1)
	}
	return nil
}

func insertSQL(t string) string {
	return "INSERT OR IGNORE INTO " + t + " (" + ledgersql.Columns + ") VALUES (" + ledgersql.Placeholders + ")"
}

// WriteStats counts the writer's commits and the decisions it inserted
// since the ledger was opened: their ratio is how well group commit
// groups (one commit, one fsync, per batch).
type WriteStats struct {
	Commits, Records int64
}

// Stats reads the counters.
func (l *Ledger) Stats() WriteStats {
	return WriteStats{Commits: l.commits.Load(), Records: l.rows.Load()}
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
	l.tabs = nil // listed again at the next outcome
	return nil
}

// forgetTables has the month tables listed again.
func (l *Ledger) forgetTables() {
	l.mu.Lock()
	l.tabs = nil
	l.mu.Unlock()
}

// forget drops t from the tables this process knows, after a DROP.
func (l *Ledger) forget(t string) {
	l.mu.Lock()
	delete(l.made, t)
	l.tabs = nil
	l.mu.Unlock()
	l.stmts.Drop(func(q string) bool { return strings.Contains(q, " "+t+" ") })
}

// SetOutcome writes the outcome of one recipient, searching the newest
// months first: the outcome follows its record within seconds. It waits
// for the writer's next commit of records, and shares it (one fsync for
// both), or for outcomeDelay, after which the outcomes waiting are
// committed alone; nothing but a shutdown, or a test, waits for an
// outcome.
func (l *Ledger) SetOutcome(ctx context.Context, ref string, rcpt ledger.Digest, o ledger.Outcome) error {
	if !o.Kind.Valid() {
		return fmt.Errorf("ledger: unknown outcome %q", o.Kind)
	}
	q := queuedOutcome{req: outcomeReq{ref: ref, rcpt: rcpt, o: o}, done: make(chan error, 1)}
	l.outMu.Lock()
	if l.outClosed {
		l.outMu.Unlock()
		return fmt.Errorf("ledger: set outcome: %w", ledger.ErrClosed)
	}
	l.outq = append(l.outq, q)
	if len(l.outq) == 1 {
		l.outTimer = time.AfterFunc(outcomeDelay, l.flushOutcomes)
	}
	l.outMu.Unlock()
	var err error
	select {
	case err = <-q.done:
	case <-ctx.Done():
		err = ctx.Err()
	}
	if err == nil || errors.Is(err, ledger.ErrNotFound) {
		return err
	}
	return fmt.Errorf("ledger: set outcome: %w", err)
}

// outcomeDelay is how long an outcome waits for a commit of records to
// share before it is committed alone.
const outcomeDelay = 20 * time.Millisecond

// queuedOutcome is a SetOutcome waiting for the writer.
type queuedOutcome struct {
	req  outcomeReq
	done chan error // buffered: the writer never waits on it
}

// takeOutcomes empties the queue for the writer's next transaction.
func (l *Ledger) takeOutcomes() []queuedOutcome {
	l.outMu.Lock()
	defer l.outMu.Unlock()
	q := l.outq
	l.outq = nil
	if l.outTimer != nil {
		l.outTimer.Stop()
		l.outTimer = nil
	}
	return q
}

// flushOutcomes has the writer commit the outcomes queued: an empty write
// takes them along.
func (l *Ledger) flushOutcomes() { _ = l.wr.Submit(context.Background(), write{}) }

// closeOutcomes writes what is queued and refuses later outcomes; the
// writer stops after it.
func (l *Ledger) closeOutcomes() {
	l.outMu.Lock()
	l.outClosed = true
	l.outMu.Unlock()
	l.flushOutcomes()
	for _, q := range l.takeOutcomes() { // the writer had already stopped
		q.done <- ledger.ErrClosed
	}
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
