package postgres

import (
	"github.com/dncgate/dncgate/datamap"
	"github.com/dncgate/dncgate/ledger"
)

// DataMap declares the shared ledger's tables, partitioned by month.
var DataMap = []datamap.Entry{
	ledger.DecisionsEntry("PostgreSQL ([ledger] url), table decisions (partitions decisions_YYYYMM)", "decisions*"),
	ledger.AuditEntry("PostgreSQL ([ledger] url), table audit (partitions audit_YYYYMM)", "audit*"),
	ledger.RollupEntry("PostgreSQL ([ledger] url), table daily", "daily"),
}
