package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/dncgate/dncgate/ledger"
)

// outcomeReq is one SetOutcome. Outcomes go through a ledger.Batcher as
// records go through the group commit: every send writes one outcome per
// recipient, and one commit each would cap the relay at the disk's
// flushes per second.
type outcomeReq struct {
	ref  string
	rcpt ledger.Digest
	o    ledger.Outcome
}

// writeOutcomes applies a batch in one transaction, searching the newest
// months first; each request gets nil or ledger.ErrNotFound, or a failure
// of the transaction fails them all.
func (l *Ledger) writeOutcomes(batch []outcomeReq) []error {
	errs, err := l.applyOutcomes(batch)
	if err == nil {
		return errs
	}
	all := make([]error, len(batch))
	for i := range all {
		all[i] = err
	}
	return all
}

func (l *Ledger) applyOutcomes(batch []outcomeReq) (errs []error, err error) {
	ctx := context.Background()
	tabs, err := l.tables(ctx, l.w)
	if err != nil {
		return nil, err
	}
	conn, err := l.writer(ctx, syncOutcomes)
	if err != nil {
		return nil, err
	}
	defer release(conn)
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	stmts := map[string]*sql.Stmt{}
	errs = make([]error, len(batch))
	for i, r := range batch {
		errs[i] = ledger.ErrNotFound
		var at any
		if !r.o.At.IsZero() {
			at = tc.Value(r.o.At)
		}
		for _, t := range tabs {
			st := stmts[t]
			if st == nil {
				if st, err = tx.PrepareContext(ctx, "UPDATE "+t+" SET outcome = ?, reply = ?, outcome_at = ? WHERE ref = ? AND rcpt_digest = ?"); err != nil {
					return nil, err
				}
				stmts[t] = st
			}
			res, err := st.ExecContext(ctx, string(r.o.Kind), r.o.Reply, at, r.ref, r.rcpt[:])
			if err != nil {
				return nil, fmt.Errorf("ledger: set outcome: %w", err)
			}
			if n, _ := res.RowsAffected(); n > 0 {
				errs[i] = nil
				break
			}
		}
	}
	return errs, tx.Commit()
}
