package embedded

import (
	"database/sql"
	"errors"
)

// statements are prepared once at Open: the relay runs Delivered and
// MarkDelivered for every message, and the caps' statements for every
// recipient. Parsing a statement costs about as much as running it.
type statements struct {
	addUser, updateUser, deleteUser *sql.Stmt
	user, listUsers, recordLogin    *sql.Stmt
	delivered, markDelivered        *sql.Stmt
	purgeDeliveries                 *sql.Stmt
	hit, count, resetCount          *sql.Stmt
	purgeCounters                   *sql.Stmt
	// the caps' hot path: every allowed recipient reserves at RCPT and
	// commits or releases once the upstream has answered
	capDropOld, capState, capHold, capUnhold, capSend *sql.Stmt
	capPurgeSends, capPurgeHolds                      *sql.Stmt
}

const (
	qAddUser = `INSERT INTO users (email, role, send_as, password_hash, created_at, updated_at,
		disabled, disabled_at, disabled_by)
		VALUES (?1, ?2, ?3, ?4, ?5, ?5, ?6, ?7, ?8) ON CONFLICT (email) DO NOTHING`
	qUpdateUser = `UPDATE users SET role = ?2, send_as = ?3, password_hash = ?4, updated_at = ?5,
		disabled = ?6, disabled_at = ?7, disabled_by = ?8
		WHERE email = ?1`
	qDeleteUser  = `DELETE FROM users WHERE email = ?`
	qRecordLogin = `UPDATE users SET last_login = ?2 WHERE email = ?1`
	qUser        = `SELECT ` + userColumns + ` FROM users WHERE email = ?`
	qListUsers   = `SELECT ` + userColumns + ` FROM users ORDER BY email`
	userColumns  = `email, role, send_as, password_hash, created_at, updated_at,
		disabled, disabled_at, disabled_by, last_login`

	// One lookup on the primary key's msg prefix.
	qDelivered     = `SELECT rcpt FROM deliveries WHERE msg = ?1 AND expires_at > ?2`
	qMarkDelivered = `INSERT INTO deliveries (msg, rcpt, expires_at) VALUES (?1, ?2, ?3)
		ON CONFLICT (msg, rcpt) DO UPDATE SET expires_at = excluded.expires_at`
	qPurgeDeliveries = `DELETE FROM deliveries WHERE (msg, rcpt) IN
		(SELECT msg, rcpt FROM deliveries WHERE expires_at <= ?1 LIMIT ?2)`

	// A hit on an expired row starts a new window; SET expressions all read
	// the old row, so both CASEs see the same expires_at.
	qHit = `INSERT INTO counters (key, count, expires_at) VALUES (?1, 1, ?3)
		ON CONFLICT (key) DO UPDATE SET
			count      = CASE WHEN expires_at <= ?2 THEN 1 ELSE count + 1 END,
			expires_at = CASE WHEN expires_at <= ?2 THEN ?3 ELSE expires_at END
		RETURNING count`
	qCount         = `SELECT count FROM counters WHERE key = ?1 AND expires_at > ?2`
	qResetCount    = `DELETE FROM counters WHERE key = ?`
	qPurgeCounters = `DELETE FROM counters WHERE key IN
		(SELECT key FROM counters WHERE expires_at <= ?1 LIMIT ?2)`
)

func (st *statements) prepare(w, r *sql.DB) error {
	var errs []error
	prep := func(db *sql.DB, q string) *sql.Stmt {
		s, err := db.Prepare(q)
		errs = append(errs, err)
		return s
	}
	st.addUser = prep(w, qAddUser)
	st.updateUser = prep(w, qUpdateUser)
	st.deleteUser = prep(w, qDeleteUser)
	st.user = prep(r, qUser)
	st.listUsers = prep(r, qListUsers)
	st.recordLogin = prep(w, qRecordLogin)
	st.delivered = prep(r, qDelivered)
	st.markDelivered = prep(w, qMarkDelivered)
	st.purgeDeliveries = prep(w, qPurgeDeliveries)
	st.hit = prep(w, qHit)
	st.count = prep(r, qCount)
	st.resetCount = prep(w, qResetCount)
	st.purgeCounters = prep(w, qPurgeCounters)
	st.capDropOld = prep(w, qCapDropOld)
	st.capState = prep(w, qCapStateCounted)
	st.capHold = prep(w, qCapHold)
	st.capUnhold = prep(w, qCapUnhold)
	st.capSend = prep(w, qCapSend)
	st.capPurgeSends = prep(w, qCapPurgeSends)
	st.capPurgeHolds = prep(w, qCapPurgeHolds)
	return errors.Join(errs...)
}

func (st *statements) close() error {
	var errs []error
	for _, s := range []*sql.Stmt{
		st.addUser, st.updateUser, st.deleteUser, st.user, st.listUsers, st.recordLogin,
		st.delivered, st.markDelivered, st.purgeDeliveries,
		st.hit, st.count, st.resetCount, st.purgeCounters,
		st.capDropOld, st.capState, st.capHold, st.capUnhold, st.capSend, st.capPurgeSends, st.capPurgeHolds,
	} {
		if s != nil {
			errs = append(errs, s.Close())
		}
	}
	return errors.Join(errs...)
}
