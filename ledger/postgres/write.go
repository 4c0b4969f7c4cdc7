package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dncgate/dncgate/ledger"
	"github.com/dncgate/dncgate/ledger/ledgersql"
)

var insertDecision = ledgersql.Rebind("INSERT INTO decisions (" + ledgersql.Columns + ") VALUES (" +
	ledgersql.Placeholders + ") ON CONFLICT DO NOTHING")

// Record writes ds durably; a decision already recorded (same id and
// time) is left as it is, so a spool replay never doubles one.
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

// batchTimeout bounds one group commit. The batch runs for every caller
// waiting on it, so it cannot take any one caller's deadline; without one
// of its own, a connection that never answers (seen after the server was
// restarted under load) would hold the group commit, and every record
// after it, for good.
const batchTimeout = 10 * time.Second

// writeBatch writes the calls of one group commit in one transaction,
// its inserts sent as one pipelined batch.
func (l *Ledger) writeBatch(batch [][]ledger.Decision) error {
	ctx, cancel := context.WithTimeout(context.Background(), batchTimeout)
	defer cancel()
	b := &pgx.Batch{}
	var queued []ledger.Decision
	for _, ds := range batch {
		for _, d := range ds {
			if err := l.ensure(ctx, d.At); err != nil {
				return err
			}
			b.Queue(insertDecision, ledgersql.Args(d, tc)...)
			queued = append(queued, d)
		}
	}
	return pgx.BeginFunc(ctx, l.pool, func(tx pgx.Tx) error {
		roll, err := insertAll(ctx, tx, b, queued)
		if err != nil {
			return err
		}
		return bump(ctx, tx, roll)
	})
}

// setOutcome finds the record through the reference's index alone: on a
// partition without statistics the planner also scans the digest's index
// and ANDs the two, and a recipient written to many times is a range that
// grows with every record. The digest's term, wrapped in coalesce (a NULL
// digest, erased, never matches), cannot use that index.
var setOutcome = ledgersql.Rebind("UPDATE decisions SET outcome = ?, reply = ?, outcome_at = ? WHERE ref = ? AND coalesce(rcpt_digest, ''::bytea) = ?")

// SetOutcome writes the outcome of one recipient. Calls made at once
// share one transaction, their updates sent as one pipelined batch: one
// round trip and one commit for the group, not one each.
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

// outcomeReq is one SetOutcome.
type outcomeReq struct {
	ref  string
	rcpt ledger.Digest
	o    ledger.Outcome
}

// writeOutcomes applies a batch as one pipelined batch of statements: no
// BEGIN and COMMIT of its own, since PostgreSQL runs the statements
// before one Sync as one implicit transaction, so a batch costs one round
// trip and one commit, as a single outcome did. Each request gets nil or
// ledger.ErrNotFound, or a failure of the batch fails them all.
func (l *Ledger) writeOutcomes(batch []outcomeReq) []error {
	ctx, cancel := context.WithTimeout(context.Background(), batchTimeout)
	defer cancel()
	errs := make([]error, len(batch))
	b := &pgx.Batch{}
	for _, r := range batch {
		var at any
		if !r.o.At.IsZero() {
			at = r.o.At.UTC()
		}
		b.Queue(setOutcome, string(r.o.Kind), r.o.Reply, at, r.ref, r.rcpt[:])
	}
	br := l.pool.SendBatch(ctx, b)
	var err error
	for i := range batch {
		tag, e := br.Exec()
		if e != nil {
			err = e
			break
		}
		if tag.RowsAffected() == 0 {
			errs[i] = ledger.ErrNotFound
		}
	}
	if e := br.Close(); err == nil {
		err = e
	}
	if err != nil {
		for i := range errs {
			errs[i] = err
		}
	}
	return errs
}

var insertAudit = ledgersql.Rebind("INSERT INTO audit (" + ledgersql.AuditColumns +
	") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING")

// Audit appends e; an event already recorded (same id) is left alone.
func (l *Ledger) Audit(ctx context.Context, e ledger.AuditEvent) error {
	ledger.FillAudit(&e)
	if err := l.ensure(ctx, e.At); err != nil {
		return fmt.Errorf("ledger: audit: %w", err)
	}
	if _, err := l.pool.Exec(ctx, insertAudit, ledgersql.AuditArgs(e, tc)...); err != nil {
		return fmt.Errorf("ledger: audit: %w", err)
	}
	return nil
}
