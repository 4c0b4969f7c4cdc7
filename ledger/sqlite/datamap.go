package sqlite

import (
	"github.com/dncgate/dncgate/datamap"
	"github.com/dncgate/dncgate/ledger"
)

// DataMap declares the ledger file's tables: one of decisions a month
// (d_YYYYMM) and the audit trail.
var DataMap = []datamap.Entry{
	ledger.DecisionsEntry("SQLite ledger DATA_DIR/ledger.db (or [ledger] path), tables d_YYYYMM", "d_*"),
	ledger.AuditEntry("SQLite ledger DATA_DIR/ledger.db, table audit", "audit"),
	ledger.RollupEntry("SQLite ledger DATA_DIR/ledger.db, table daily", "daily"),
}
