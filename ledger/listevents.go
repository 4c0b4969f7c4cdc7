package ledger

import (
	"strconv"

	"github.com/dncgate/dncgate/listdb"
)

// SourceConsole: an opt-out made by hand in the web console.
const SourceConsole Source = "console"

// RollbackEvent is the audit trail's record of a list rollback: who put
// which kept version back in force, in place of which, with the file's
// SHA-256 and the entries of the version now in force.
func RollbackEvent(sw listdb.Switch, by string) AuditEvent {
	return AuditEvent{At: sw.To.RestoredAt, Actor: by, Action: ActListRollback, Object: sw.List,
		Details: map[string]string{"from": sw.From.ID, "to": sw.To.ID, "sha256": sw.To.FileSHA256,
			"entries": strconv.FormatInt(sw.To.Entries, 10)}}
}
