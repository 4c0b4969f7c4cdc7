package ledger

import "time"

// Action names a change to what may be sent.
type Action string

const (
	ActListImport   Action = "list-import"
	ActListRollback Action = "list-rollback"
	ActListDrop     Action = "list-drop"
	ActEntryAdd     Action = "entry-add"
	ActEntryRemove  Action = "entry-remove"
	ActOptOut       Action = "opt-out"
	ActErase        Action = "erase"
	ActUserChange   Action = "user-change"
	ActCapReset     Action = "cap-reset"
	ActConfigReload Action = "config-reload"
	ActBackup       Action = "backup"  // an archive of the store, keys and ledger written
	ActRestore      Action = "restore" // the store, keys and ledger put back from an archive
	// The web console's logins (package console): Object is the user.
	ActLogin       Action = "login"
	ActLoginFailed Action = "login-failed"
	ActLogout      Action = "logout"
	ActLogoutAll   Action = "logout-all"
	ActTOTPEnrol   Action = "totp-enrol"
	ActTOTPReset   Action = "totp-reset"
	ActExport      Action = "export"
	ActBounced     Action = "bounced" // put on the bounced list by a bounce
)

// Actions is every action the trail records, for the readers that check a
// filter against them.
var Actions = []Action{ActListImport, ActListRollback, ActListDrop, ActEntryAdd, ActEntryRemove, ActOptOut,
	ActErase, ActUserChange, ActCapReset, ActConfigReload, ActBackup, ActRestore, ActLogin, ActLoginFailed,
	ActLogout, ActLogoutAll, ActTOTPEnrol, ActTOTPReset, ActExport, ActBounced}

// Valid reports whether a is one of Actions.
func (a Action) Valid() bool {
	for _, k := range Actions {
		if a == k {
			return true
		}
	}
	return false
}

// Source is where an opt-out came from.
type Source string

const (
	SourceLink      Source = "link"
	SourceOneClick  Source = "one-click"
	SourceMailto    Source = "mailto"
	SourceCLI       Source = "cli"
	SourceAPI       Source = "api"
	SourceComplaint Source = "complaint" // a spam complaint (RFC 5965) came back
)

// AuditEvent is one change in the audit trail. An erasure carries no
// digest and no address: only that an erasure took place, by whom.
type AuditEvent struct {
	ID     string
	At     time.Time
	Actor  string // who: an admin's name, "recipient" for a link, the API user
	Action Action
	Object string  // the list, user or cap concerned; never an address
	Digest *Digest // the person concerned (opt-outs, entries), when there is one
	Source Source  // for opt-outs
	Reason string
	// Details holds what the action needs to be proved: a file's SHA-256,
	// counts, versions.
	Details map[string]string
}

// AuditQuery selects audit events.
type AuditQuery struct {
	Since, Until time.Time // zero: unbounded
	Action       Action
	Digest       *Digest
	Actor        string  // who made the change, exactly
	Object       string  // the list, user or cap concerned, exactly
	After        *Cursor // only events older than the last one of the page before
	Limit        int     // 0: DefaultLimit
}

// Cursor is where a page of audit events that ends with e continues.
func (e AuditEvent) Cursor() Cursor { return Cursor{At: e.At, ID: e.ID} }
