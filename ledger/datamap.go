package ledger

import "github.com/dncgate/dncgate/datamap"

// The ledger's kinds, where either backend keeps them; Where is the
// backend's own.
const (
	decisionsWhat = "one record per recipient decision: time, reference, rep and sender, the recipient masked and its keyed digest, domain, country, " +
		"type, rule, verdict and reason, lists consulted with their versions, cap, outcome and upstream reply, listener and client address; " +
		"the subject only with store_subject"
	decisionsRetention = "ledger.retention.sent (default 1096 days) for decisions that let mail go, ledger.retention.refused (default 366 days) for the others, " +
		"deleted hourly; `optout erase` deletes a person's refusals and strips the address and digest from their sent decisions"
	auditWhat = "every change to what may be sent: imports, entries by hand (value masked), opt-outs with their source and the person's digest, " +
		"erasures (no address, no digest), user changes, cap resets"
	auditRetention = "ledger.retention.audit (default 1827 days), deleted hourly"
	ledgerReaders  = "managers and admins through `dncgate log` and the console; whoever can read the ledger's database"
)

// DecisionsEntry and AuditEntry are the ledger's two kinds, with where
// and what they cover filled in by the backend.
func DecisionsEntry(where string, tables ...string) datamap.Entry {
	return datamap.Entry{Kind: "send ledger: decisions", What: decisionsWhat, Where: where, Form: datamap.FormMixed,
		Retention: decisionsRetention, Readers: ledgerReaders, Tables: tables}
}

// AuditEntry: see DecisionsEntry.
func AuditEntry(where string, tables ...string) datamap.Entry {
	return datamap.Entry{Kind: "send ledger: audit trail", What: auditWhat, Where: where, Form: datamap.FormMixed,
		Retention: auditRetention, Readers: ledgerReaders, Tables: tables}
}

// SpoolDataMap declares the spool (spool.go).
var SpoolDataMap = []datamap.Entry{{
	Kind: "ledger spool", What: "decision records, outcomes and audit events waiting while the ledger cannot be written",
	Where: "DATA_DIR/ledger.spool (or [ledger] spool_file)", Form: datamap.FormMixed,
	Retention: "until replayed into the ledger, within seconds once it answers", Readers: "the dncgate user and root",
}}
