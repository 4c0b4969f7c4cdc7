package listimport

import (
	"path/filepath"
	"strconv"

	"github.com/dncgate/dncgate/ledger"
)

// AuditEvent is the audit trail's record of a committed import: who,
// when, the file's SHA-256 and the counts. The CLI and the console record
// the same.
func (rep Report) AuditEvent() ledger.AuditEvent {
	v := rep.Version
	n := func(i int64) string { return strconv.FormatInt(i, 10) }
	return ledger.AuditEvent{At: v.ImportedAt, Actor: v.ImportedBy, Action: ledger.ActListImport, Object: rep.List,
		Details: map[string]string{
			"version": v.ID, "previous": rep.Previous.ID, "file": filepath.Base(rep.File), "sha256": v.FileSHA256,
			"rows": n(v.Rows), "valid": n(v.Valid), "invalid": n(v.Invalid), "duplicates": n(v.Duplicates),
			"entries": n(v.Entries), "added": n(rep.Added), "removed": n(rep.Removed),
		}}
}
