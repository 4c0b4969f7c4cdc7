package embedded

import (
	"database/sql"
	"fmt"
)

// migrations[i] takes the schema from version i to i+1; the version lives
// in PRAGMA user_version. Append, never edit: files in the field are at
// every version. Times are Unix nanoseconds.
var migrations = []string{
	`CREATE TABLE users (
		email         TEXT PRIMARY KEY,  -- lower-cased
		role          TEXT NOT NULL,
		send_as       TEXT NOT NULL,     -- JSON array, in the user's order
		password_hash BLOB NOT NULL,
		created_at    INTEGER NOT NULL,
		updated_at    INTEGER NOT NULL
	) WITHOUT ROWID;
	CREATE TABLE deliveries (
		msg        TEXT NOT NULL,
		rcpt       TEXT NOT NULL,
		expires_at INTEGER NOT NULL,
		PRIMARY KEY (msg, rcpt)
	) WITHOUT ROWID;
	CREATE INDEX deliveries_expiry ON deliveries (expires_at);
	CREATE TABLE counters (
		key        TEXT PRIMARY KEY,
		count      INTEGER NOT NULL,
		expires_at INTEGER NOT NULL
	) WITHOUT ROWID;
	CREATE INDEX counters_expiry ON counters (expires_at);`,
	// Frequency caps (caps.go): committed sends and live reservations per
	// cap key. expires_at is when a row stops mattering, found through its
	// index by the incremental purge.
	`CREATE TABLE IF NOT EXISTS cap_sends (
		key        TEXT NOT NULL,
		id         TEXT NOT NULL,
		at         INTEGER NOT NULL,
		expires_at INTEGER NOT NULL,  -- at + the cap's window
		PRIMARY KEY (key, id)
	) WITHOUT ROWID;
	CREATE INDEX IF NOT EXISTS cap_sends_at ON cap_sends (key, at);
	CREATE INDEX IF NOT EXISTS cap_sends_expiry ON cap_sends (expires_at);
	CREATE TABLE IF NOT EXISTS cap_holds (
		key        TEXT NOT NULL,
		id         TEXT NOT NULL,
		expires_at INTEGER NOT NULL,
		PRIMARY KEY (key, id)
	) WITHOUT ROWID;
	CREATE INDEX IF NOT EXISTS cap_holds_key_expiry ON cap_holds (key, expires_at);
	CREATE INDEX IF NOT EXISTS cap_holds_expiry ON cap_holds (expires_at);`,
	// The store's identity (identity.go).
	identitySchema,
	// The console's sessions and second factors (sessions.go).
	consoleSchema,
	// Each cap key's number of send rows, kept by triggers whatever
	// writes or deletes them (Commit, the purges, Reset), so a
	// reservation reads its count instead of counting the rows: a count
	// over an index range costs as many steps as the key has sends
	// (caps.go, qCapStateCounted).
	`CREATE TABLE cap_send_counts (
		key TEXT PRIMARY KEY,
		n   INTEGER NOT NULL
	) WITHOUT ROWID;
	INSERT INTO cap_send_counts (key, n) SELECT key, count(*) FROM cap_sends GROUP BY key;
	CREATE TRIGGER cap_sends_counted AFTER INSERT ON cap_sends BEGIN
		INSERT INTO cap_send_counts (key, n) VALUES (new.key, 1)
			ON CONFLICT (key) DO UPDATE SET n = n + 1;
	END;
	CREATE TRIGGER cap_sends_uncounted AFTER DELETE ON cap_sends BEGIN
		UPDATE cap_send_counts SET n = n - 1 WHERE key = old.key;
		DELETE FROM cap_send_counts WHERE key = old.key AND n <= 0;
	END;`,
	// The webhooks' queue (webhooks.go).
	webhookSchema,
	// Disabled users and the last login (users.go). The defaults leave
	// the users already there enabled, never logged in.
	`ALTER TABLE users ADD COLUMN disabled INTEGER NOT NULL DEFAULT 0;
	ALTER TABLE users ADD COLUMN disabled_at INTEGER NOT NULL DEFAULT 0;
	ALTER TABLE users ADD COLUMN disabled_by TEXT NOT NULL DEFAULT '';
	ALTER TABLE users ADD COLUMN last_login INTEGER NOT NULL DEFAULT 0;`,
}

// migrate brings the schema up to date inside one IMMEDIATE transaction,
// so that processes opening a new file at the same time create it once.
func migrate(db *sql.DB) error {
	tx, err := db.Begin()
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var v int
	if err := tx.QueryRow("PRAGMA user_version").Scan(&v); err != nil {
		return err
	}
	if v > len(migrations) {
		return fmt.Errorf("schema version %d is newer than this program's %d; upgrade dncgate", v, len(migrations))
	}
	if v == len(migrations) {
		return nil
	}
	for i := v; i < len(migrations); i++ {
		if _, err := tx.Exec(migrations[i]); err != nil {
			return fmt.Errorf("migrating schema to version %d: %w", i+1, err)
		}
	}
	// PRAGMA takes no parameters; the value is our own integer.
	if _, err := tx.Exec(fmt.Sprintf("PRAGMA user_version = %d", len(migrations))); err != nil {
		return err
	}
	return tx.Commit()
}
