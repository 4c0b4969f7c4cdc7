package embedded

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/dncgate/dncgate/caps"
)

// purgeStep is how many expired rows of each cap table every write also
// deletes, found through the expiry indexes: a write adds at most one row
// per slot, so rows of keys nobody touches again go away without a timer
// and without scanning. A handful keeps each write's extra cost at two
// index seeks when nothing has expired. A send's row expires by the window
// it was recorded under: after a cap's window is lengthened, sends older
// than the old window may already be gone.
const purgeStep = 4

var _ caps.Store = (*Store)(nil)

const (
	// qCapState counts key's sends in (cut, ∞) and holds alive after now,
	// and whether id is among them, in one statement.
	qCapState = `SELECT
		(SELECT count(*) FROM cap_sends WHERE key = ?1 AND at > ?3),
		(SELECT count(*) FROM cap_holds WHERE key = ?1 AND expires_at > ?4),
		EXISTS (SELECT 1 FROM cap_sends WHERE key = ?1 AND id = ?2 AND at > ?3),
		EXISTS (SELECT 1 FROM cap_holds WHERE key = ?1 AND id = ?2 AND expires_at > ?4)`
	// qCapStateCounted is qCapState for a writer that has just run
	// qCapDropOld on the key: every send row left is in the window, and
	// cap_send_counts has their number.
	qCapStateCounted = `SELECT
		coalesce((SELECT n FROM cap_send_counts WHERE key = ?1), 0),
		(SELECT count(*) FROM cap_holds WHERE key = ?1 AND expires_at > ?4),
		EXISTS (SELECT 1 FROM cap_sends WHERE key = ?1 AND id = ?2 AND at > ?3),
		EXISTS (SELECT 1 FROM cap_holds WHERE key = ?1 AND id = ?2 AND expires_at > ?4)`
	// qCapDropOld deletes key's sends that have left the window (at <=
	// cut): one index seek when there are none. The purge would delete
	// them by their expiry; this only differs after the window was
	// shortened, when the sends it no longer covers go at once.
	qCapDropOld = `DELETE FROM cap_sends WHERE key = ?1 AND at <= ?2`
	// A hold re-granted keeps the later expiry; an expired row not yet
	// purged is simply renewed.
	qCapHold = `INSERT INTO cap_holds (key, id, expires_at) VALUES (?1, ?2, ?3)
		ON CONFLICT (key, id) DO UPDATE SET expires_at = max(expires_at, excluded.expires_at)`
	qCapUnhold = `DELETE FROM cap_holds WHERE key = ?1 AND id = ?2`
	// A send already in the window keeps its time; one that has left it
	// (at <= cut) is replaced.
	qCapSend = `INSERT INTO cap_sends (key, id, at, expires_at) VALUES (?1, ?2, ?3, ?4)
		ON CONFLICT (key, id) DO UPDATE SET at = excluded.at, expires_at = excluded.expires_at
		WHERE cap_sends.at <= ?5`
	qCapSendsIn = `SELECT count(*) FROM cap_sends WHERE key = ?1 AND at > ?2`
	qCapNthSend = `SELECT at FROM cap_sends WHERE key = ?1 AND at > ?2
		ORDER BY at LIMIT 1 OFFSET ?3`
	qCapNthHold = `SELECT expires_at FROM cap_holds WHERE key = ?1 AND expires_at > ?2
		ORDER BY expires_at LIMIT 1 OFFSET ?3`
	qCapResetSends = `DELETE FROM cap_sends WHERE key = ?1`
	qCapResetHolds = `DELETE FROM cap_holds WHERE key = ?1`
	qCapPurgeSends = `DELETE FROM cap_sends WHERE (key, id) IN (SELECT key, id FROM cap_sends WHERE expires_at <= ?1 LIMIT ?2)`
	qCapPurgeHolds = `DELETE FROM cap_holds WHERE (key, id) IN (SELECT key, id FROM cap_holds WHERE expires_at <= ?1 LIMIT ?2)`
)

// querier is what both a transaction and the read pool offer.
type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// Reserve runs every request in one IMMEDIATE transaction, so the count
// and the new hold cannot interleave with another writer, in this process
// or another one on the same file. When a request is refused the whole
// transaction rolls back: no hold of this call remains.
func (s *Store) Reserve(ctx context.Context, reqs []caps.Request, now time.Time) ([]caps.Reservation, error) {
	if err := caps.CheckRequests(reqs); err != nil {
		return nil, fmt.Errorf("embedded: reserve: %w", err)
	}
	if len(reqs) == 0 {
		return nil, nil
	}
	var out []caps.Reservation
	err := s.capTx(ctx, now, func(tx *sql.Tx) (bool, error) {
		out = make([]caps.Reservation, len(reqs))
		granted := true
		for i, r := range reqs {
			res, err := s.reserveOne(ctx, tx, r, now)
			if err != nil {
				return false, err
			}
			out[i], granted = res, granted && res.OK
		}
		return granted, nil
	})
	if err != nil {
		return nil, fmt.Errorf("embedded: reserve: %w", err)
	}
	return out, nil
}

func (s *Store) reserveOne(ctx context.Context, tx *sql.Tx, r caps.Request, now time.Time) (caps.Reservation, error) {
	// the statements prepared at Open: the hot path parses nothing
	if _, err := tx.StmtContext(ctx, s.st.capDropOld).ExecContext(ctx, r.Key, nanos(now.Add(-r.Window))); err != nil {
		return caps.Reservation{}, err
	}
	state := tx.StmtContext(ctx, s.st.capState)
	st, err := capState(func(args ...any) *sql.Row { return state.QueryRowContext(ctx, args...) }, r.Key, r.ID, r.Window, now)
	if err != nil {
		return caps.Reservation{}, err
	}
	res := caps.Reservation{OK: true, Count: st.count, Limit: r.Limit}
	switch {
	case st.sent: // granted again; its send already counts
		return res, nil
	case st.held || st.count < r.Limit:
		if !st.held {
			res.Count++
		}
		_, err := tx.StmtContext(ctx, s.st.capHold).ExecContext(ctx, r.Key, r.ID, nanos(now.Add(r.Hold)))
		return res, err
	}
	res.OK = false
	res.NextSlot, err = nextSlot(ctx, tx, r.Key, r.Limit, st.count, r.Window, now)
	return res, err
}

// capCount is a key's state at one moment.
type capCount struct {
	count      int  // sends in the window plus live holds
	sent, held bool // whether the id asked about is among them
}

// capState reads key's count at now and whether id holds or sent a slot
// in it, in one statement: row runs qCapState with the arguments given.
func capState(row func(args ...any) *sql.Row, key, id string, window time.Duration, now time.Time) (capCount, error) {
	var sends, holds int
	var c capCount
	err := row(key, id, nanos(now.Add(-window)), nanos(now)).
		Scan(&sends, &holds, &c.sent, &c.held)
	c.count = sends + holds
	return c, err
}

// nextSlot finds when count falls below limit if nothing new is held: the
// k-th oldest send leaving the window, or when holds make up the rest, the
// later of the last send leaving and the needed hold expiring.
func nextSlot(ctx context.Context, q querier, key string, limit, count int, window time.Duration, now time.Time) (time.Time, error) {
	k := count - limit + 1
	var sends int
	cut := nanos(now.Add(-window))
	if err := q.QueryRowContext(ctx, qCapSendsIn, key, cut).Scan(&sends); err != nil {
		return time.Time{}, err
	}
	var at int64
	if k <= sends {
		err := q.QueryRowContext(ctx, qCapNthSend, key, cut, k-1).Scan(&at)
		return fromNanos(at).Add(window), err
	}
	var exp int64
	if err := q.QueryRowContext(ctx, qCapNthHold, key, nanos(now), k-sends-1).Scan(&exp); err != nil {
		return time.Time{}, err
	}
	next := fromNanos(exp)
	if sends > 0 {
		if err := q.QueryRowContext(ctx, qCapNthSend, key, cut, sends-1).Scan(&at); err != nil {
			return time.Time{}, err
		}
		if last := fromNanos(at).Add(window); last.After(next) {
			next = last
		}
	}
	return next, nil
}

// Commit moves each slot's hold to a send at now, all in one transaction.
func (s *Store) Commit(ctx context.Context, slots []caps.Slot, now time.Time) error {
	if err := caps.CheckSlots(slots); err != nil {
		return fmt.Errorf("embedded: commit: %w", err)
	}
	err := s.capTx(ctx, now, func(tx *sql.Tx) (bool, error) {
		unhold, send := tx.StmtContext(ctx, s.st.capUnhold), tx.StmtContext(ctx, s.st.capSend)
		for _, sl := range slots {
			if _, err := unhold.ExecContext(ctx, sl.Key, sl.ID); err != nil {
				return false, err
			}
			_, err := send.ExecContext(ctx, sl.Key, sl.ID, nanos(now), nanos(now.Add(sl.Window)), nanos(now.Add(-sl.Window)))
			if err != nil {
				return false, err
			}
		}
		return true, nil
	})
	if err != nil {
		return fmt.Errorf("embedded: commit: %w", err)
	}
	return nil
}

// Release deletes each slot's hold, in one transaction.
func (s *Store) Release(ctx context.Context, slots []caps.Slot) error {
	if err := caps.CheckSlots(slots); err != nil {
		return fmt.Errorf("embedded: release: %w", err)
	}
	err := s.inGroupTx(ctx, func(tx *sql.Tx) (bool, error) {
		unhold := tx.StmtContext(ctx, s.st.capUnhold)
		for _, sl := range slots {
			if _, err := unhold.ExecContext(ctx, sl.Key, sl.ID); err != nil {
				return false, err
			}
		}
		return true, nil
	})
	if err != nil {
		return fmt.Errorf("embedded: release: %w", err)
	}
	return nil
}

// Usage reads key's state through the read pool, changing nothing. The
// reads run in one transaction so they see one snapshot.
func (s *Store) Usage(ctx context.Context, key string, limit int, window time.Duration, now time.Time) (caps.Reservation, error) {
	if err := caps.CheckUsage(key, limit, window); err != nil {
		return caps.Reservation{}, fmt.Errorf("embedded: usage: %w", err)
	}
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return caps.Reservation{}, fmt.Errorf("embedded: usage: %w", err)
	}
	defer tx.Rollback()
	st, err := capState(func(args ...any) *sql.Row { return tx.QueryRowContext(ctx, qCapState, args...) }, key, "", window, now)
	res := caps.Reservation{OK: st.count < limit, Count: st.count, Limit: limit}
	if err == nil && !res.OK {
		res.NextSlot, err = nextSlot(ctx, tx, key, limit, st.count, window, now)
	}
	if err != nil {
		return caps.Reservation{}, fmt.Errorf("embedded: usage: %w", err)
	}
	return res, nil
}

// Reset deletes every send and hold of key.
func (s *Store) Reset(ctx context.Context, key string) error {
	err := s.inTx(ctx, func(tx *sql.Tx) (bool, error) {
		for _, q := range []string{qCapResetSends, qCapResetHolds} {
			if _, err := tx.ExecContext(ctx, q, key); err != nil {
				return false, err
			}
		}
		return true, nil
	})
	if err != nil {
		return fmt.Errorf("embedded: reset cap: %w", err)
	}
	return nil
}

// capTx is inTx for writes that add rows, through the group commit
// (txgroup.go): it purges a few expired rows first, in the same
// transaction.
func (s *Store) capTx(ctx context.Context, now time.Time, f func(tx *sql.Tx) (bool, error)) error {
	return s.inGroupTx(ctx, func(tx *sql.Tx) (bool, error) {
		for _, st := range []*sql.Stmt{s.st.capPurgeSends, s.st.capPurgeHolds} {
			if _, err := tx.StmtContext(ctx, st).ExecContext(ctx, nanos(now), purgeStep); err != nil {
				return false, err
			}
		}
		return f(tx)
	})
}

// inTx runs f in a write transaction (IMMEDIATE, see openPool) and
// commits when f returns true, rolls back when it returns false or fails.
func (s *Store) inTx(ctx context.Context, f func(tx *sql.Tx) (bool, error)) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	keep, err := f(tx)
	if err != nil || !keep {
		return errors.Join(err, ignoreDone(tx.Rollback()))
	}
	return tx.Commit()
}

// ignoreDone drops the error of rolling back a transaction the driver has
// already ended (after a failed statement).
func ignoreDone(err error) error {
	if errors.Is(err, sql.ErrTxDone) {
		return nil
	}
	return err
}
