// Package postgres is the send ledger shared by several gateway
// instances: PostgreSQL tables partitioned by month on the decision time,
// partitions created ahead and dropped whole for retention.
package postgres

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/dncgate/dncgate/ledger"
	"github.com/dncgate/dncgate/ledger/ledgersql"
)

// monthsAhead is how many months past the current one have partitions
// before a record needs them.
const monthsAhead = 2

// Ledger is the PostgreSQL ledger; safe for concurrent use by any number
// of processes.
type Ledger struct {
	pool *pgxpool.Pool
	ret  ledger.Retention
	gc   *ledger.GroupCommit
	oc   *ledger.Batcher[outcomeReq] // outcomes, one transaction a batch

	mu   sync.Mutex
	made map[string]bool // partitions known to exist
}

var _ ledger.Ledger = (*Ledger)(nil)

// Open connects to url, creates the tables when missing and the
// partitions of now's month and the next ones.
func Open(ctx context.Context, url string, ret ledger.Retention, now time.Time, opts ...ledger.Option) (*Ledger, error) {
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		// pgx's message may quote the URL, password included.
		return nil, fmt.Errorf("ledger: postgres: bad url")
	}
	l := &Ledger{pool: pool, ret: ret, made: map[string]bool{}}
	if err := l.setup(ctx, now); err != nil {
		pool.Close()
		return nil, fmt.Errorf("ledger: postgres: %w", err)
	}
	set := ledger.Configure(opts)
	l.gc = ledger.StartGroupCommit(l.writeBatch, set.CommitDelay)
	l.oc = ledger.StartBatcher(l.writeOutcomes, set.CommitDelay)
	return l, nil
}

const schema = `
CREATE TABLE IF NOT EXISTS decisions (
	id text NOT NULL, at timestamptz NOT NULL, ref text NOT NULL, rep text NOT NULL, rcpt_masked text NOT NULL,
	rcpt_digest bytea, domain text NOT NULL, verdict text NOT NULL, reason text NOT NULL,
	match_list text NOT NULL, subject text NOT NULL, outcome text NOT NULL, reply text NOT NULL,
	outcome_at timestamptz, extra bytea NOT NULL,
	PRIMARY KEY (at, id)
) PARTITION BY RANGE (at);
CREATE INDEX IF NOT EXISTS decisions_rep ON decisions (rep, at, id);
CREATE INDEX IF NOT EXISTS decisions_digest ON decisions (rcpt_digest, at, id) WHERE rcpt_digest IS NOT NULL;
CREATE INDEX IF NOT EXISTS decisions_ref ON decisions (ref);
CREATE TABLE IF NOT EXISTS audit (
	id text NOT NULL, at timestamptz NOT NULL, actor text NOT NULL, action text NOT NULL,
	object text NOT NULL, digest bytea, source text NOT NULL, reason text NOT NULL, details text NOT NULL,
	PRIMARY KEY (at, id)
) PARTITION BY RANGE (at);
CREATE INDEX IF NOT EXISTS audit_digest ON audit (digest, at) WHERE digest IS NOT NULL;`

// schemaLock serialises schema changes between instances.
const schemaLock = 0x646e6367 // "dncg"

func (l *Ledger) setup(ctx context.Context, now time.Time) error {
	err := pgx.BeginFunc(ctx, l.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", schemaLock); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, schema); err != nil {
			return err
		}
		if err := migrate(ctx, tx); err != nil {
			return err
		}
		return ensureRollup(ctx, tx)
	})
	if err != nil {
		return err
	}
	return l.ensureAhead(ctx, now)
}

// ensureAhead creates the partitions of now's month and monthsAhead more.
func (l *Ledger) ensureAhead(ctx context.Context, now time.Time) error {
	m := ledger.Month(now)
	for i := 0; i <= monthsAhead; i++ {
		if err := l.ensure(ctx, m.AddDate(0, i, 0)); err != nil {
			return err
		}
	}
	return nil
}

// partition names the month's partition of parent.
func partition(parent string, month time.Time) string {
	return parent + "_" + month.Format("200601")
}

// ensure creates both tables' partitions for month unless known.
func (l *Ledger) ensure(ctx context.Context, month time.Time) error {
	month = ledger.Month(month)
	key := month.Format("200601")
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.made[key] {
		return nil
	}
	err := pgx.BeginFunc(ctx, l.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", schemaLock); err != nil {
			return err
		}
		for _, parent := range []string{"decisions", "audit"} {
			q := fmt.Sprintf("CREATE TABLE IF NOT EXISTS %s PARTITION OF %s FOR VALUES FROM ('%s') TO ('%s')",
				partition(parent, month), parent, month.Format(time.RFC3339), month.AddDate(0, 1, 0).Format(time.RFC3339))
			if _, err := tx.Exec(ctx, q); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("partition %s: %w", key, err)
	}
	l.made[key] = true
	return nil
}

func (l *Ledger) forget(month time.Time) {
	l.mu.Lock()
	delete(l.made, month.Format("200601"))
	l.mu.Unlock()
}

// Close stops the group commit and closes the pool.
func (l *Ledger) Close() error {
	if l.oc != nil {
		l.oc.Stop()
	}
	if l.gc != nil {
		l.gc.Stop()
	}
	l.pool.Close()
	return nil
}

// stamps is how times are stored: timestamptz, microseconds.
type stamps struct{}

func (stamps) Value(t time.Time) any    { return t }
func (stamps) Dest() ledgersql.TimeDest { return &stampDest{} }

type stampDest struct{ t *time.Time }

func (d *stampDest) Ptr() any { return &d.t }
func (d *stampDest) Time() time.Time {
	if d.t == nil {
		return time.Time{}
	}
	return d.t.UTC()
}

var tc stamps
