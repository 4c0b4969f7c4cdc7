package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"

	"github.com/dncgate/dncgate/ledger"
	"github.com/dncgate/dncgate/ledger/ledgersql"
)

// maxBatch bounds one group commit, in calls.
const maxBatch = 256

var errClosed = errors.New("ledger: closed")

type recordReq struct {
	ds   []ledger.Decision
	done chan error
}

// groupCommit writes the Record calls that arrive while a transaction
// commits together in the next one: with many sessions deciding at once,
// one fsync per batch instead of one per call. Each caller still waits
// until its records are durable.
type groupCommit struct {
	write func([]recordReq) error
	once  sync.Once
	reqs  chan recordReq
	quit  chan struct{}
	done  chan struct{}
}

func startGroupCommit(write func([]recordReq) error) *groupCommit {
	g := &groupCommit{write: write, reqs: make(chan recordReq), quit: make(chan struct{}), done: make(chan struct{})}
	go g.loop()
	return g
}

func (g *groupCommit) loop() {
	defer close(g.done)
	batch := make([]recordReq, 0, maxBatch)
	for {
		select {
		case <-g.quit:
			return
		case r := <-g.reqs:
			batch = append(batch[:0], r)
		}
	collect:
		for len(batch) < maxBatch {
			select {
			case r := <-g.reqs:
				batch = append(batch, r)
			default:
				break collect
			}
		}
		err := g.write(batch)
		for _, r := range batch {
			r.done <- err
		}
	}
}

func (g *groupCommit) stop() {
	g.once.Do(func() { close(g.quit) })
	<-g.done
}

func (g *groupCommit) submit(ctx context.Context, ds []ledger.Decision) error {
	r := recordReq{ds: ds, done: make(chan error, 1)}
	select {
	case g.reqs <- r:
	case <-g.quit:
		return errClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-r.done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Record writes ds durably; a decision already recorded (same id) is
// left as it is, so a spool replay never doubles one.
func (l *Ledger) Record(ctx context.Context, ds []ledger.Decision) error {
	if len(ds) == 0 {
		return nil
	}
	ledger.Fill(ds)
	if err := l.gc.submit(ctx, ds); err != nil {
		return fmt.Errorf("ledger: record: %w", err)
	}
	return nil
}

// writeBatch runs on the group commit's goroutine, the only writer of
// decisions.
func (l *Ledger) writeBatch(batch []recordReq) error {
	ctx := context.Background()
	for _, r := range batch {
		for _, d := range r.ds {
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
	for _, r := range batch {
		for _, d := range r.ds {
			t := table(d.At)
			st := stmts[t]
			if st == nil {
				if st, err = tx.PrepareContext(ctx, "INSERT OR IGNORE INTO "+t+" ("+ledgersql.Columns+") VALUES ("+ledgersql.Placeholders+")"); err != nil {
					return err
				}
				stmts[t] = st
			}
			if _, err := st.ExecContext(ctx, ledgersql.Args(d, tc)...); err != nil {
				return err
			}
		}
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
// months first: the outcome follows its record within seconds.
func (l *Ledger) SetOutcome(ctx context.Context, ref string, rcpt ledger.Digest, o ledger.Outcome) error {
	if !o.Kind.Valid() {
		return fmt.Errorf("ledger: unknown outcome %q", o.Kind)
	}
	tabs, err := l.tables(ctx, l.w)
	if err != nil {
		return fmt.Errorf("ledger: set outcome: %w", err)
	}
	var at any
	if !o.At.IsZero() {
		at = tc.Value(o.At)
	}
	for _, t := range tabs {
		res, err := l.w.ExecContext(ctx, "UPDATE "+t+" SET outcome = ?, reply = ?, outcome_at = ? WHERE ref = ? AND rcpt_digest = ?",
			string(o.Kind), o.Reply, at, ref, rcpt[:])
		if err != nil {
			return fmt.Errorf("ledger: set outcome: %w", err)
		}
		if n, _ := res.RowsAffected(); n > 0 {
			return nil
		}
	}
	return ledger.ErrNotFound
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
