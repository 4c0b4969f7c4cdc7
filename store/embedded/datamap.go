package embedded

import "github.com/dncgate/dncgate/datamap"

// storeReaders is who can read the embedded store.
const storeReaders = "the dncgate user and root (DATA_DIR is 0700, the file 0600); admins through the CLI on the machine"

// DataMap declares every table of the store (datamap_test.go fails on a
// table none covers).
var DataMap = []datamap.Entry{
	{Kind: "users", What: "the reps, managers and admins who log in: login address, role, send-as addresses, bcrypt password hash, whether disabled (when, by whom), the last login",
		Where: "embedded store, table users", Form: datamap.FormPlain + " (the password as a bcrypt hash)",
		Retention: "until `dncgate users rm`", Readers: storeReaders, Tables: []string{"users"}},
	{Kind: "login attempts", What: "failed logins counted for the lock-out: the login name and the client's address (IPv4, or IPv6 /64) in the counter's name",
		Where: "embedded store, table counters (auth:pair:…, auth:client:…, auth:user:…)", Form: datamap.FormPlain,
		Retention: "the lock-out window; expired rows are purged as new ones come", Readers: storeReaders, Tables: []string{"counters"}},
	{Kind: "delivered markers", What: "which recipients of a message the upstream accepted, so a client's retry reaches only the others",
		Where: "embedded store, table deliveries", Form: datamap.FormDigest + " (of the message and of the recipient)",
		Retention: "limits.remember_delivered; expired rows are purged", Readers: storeReaders, Tables: []string{"deliveries"}},
	{Kind: "cap counts", What: "sends and holds counted against each frequency cap, per recipient, domain, rep or organisation",
		Where: "embedded store, tables cap_sends, cap_holds and cap_send_counts", Form: datamap.FormDigest + " (of the cap and its subject)",
		Retention: "the cap's window; `caps reset` and `optout erase` delete a person's", Readers: storeReaders, Tables: []string{"cap_sends", "cap_holds", "cap_send_counts"}},
	{Kind: "list entries and opt-outs", What: "the values of each suppression list, the opt-out list's addresses included, per version",
		Where: "embedded store, tables list_entries, list_manual (by hand and opt-outs)", Form: datamap.FormDigest,
		Retention: "an import's entries until the version leaves the kept ones (keep_versions); opt-outs and entries by hand until `lists remove`: an opt-out is kept for good, as the tombstone that keeps the person suppressed",
		Readers:   storeReaders, Tables: []string{"list_entries", "list_manual"}},
	{Kind: "decisions by hand", What: "who added or removed a list value by hand, when and why",
		Where: "embedded store, table list_manual_log", Form: datamap.FormMasked + " (the value; the reason as written)",
		Retention: "until the list is dropped", Readers: storeReaders, Tables: []string{"list_manual_log"}},
	{Kind: "CRM contacts", What: "an address's phone numbers, country, recipient type and language, to apply phone lists and country rules and choose the footer's language",
		Where: "embedded store, table contact_entries", Form: datamap.FormDigest + " (address and numbers; country, type and language plain)",
		Retention: "until the next `contacts import`; `optout erase` deletes one", Readers: storeReaders, Tables: []string{"contact_entries"}},
	{Kind: "console sessions", What: "who is logged in to the web console: the login address, the step of the login, the CSRF token, the login and last-request times",
		Where: "embedded store, table sessions", Form: datamap.FormPlain + " (the session's name is the SHA-256 of the browser's secret, never the secret)",
		Retention: "[console] session_idle after the last request, session_max after the login; logout, `users totp-reset` and `users rm` delete them", Readers: storeReaders, Tables: []string{"sessions"}},
	{Kind: "second factors", What: "a console user's TOTP secret and the digests of their unused recovery codes",
		Where: "embedded store, tables second_factors and recovery_codes", Form: datamap.FormPlain + " (the TOTP secret; the recovery codes as SHA-256 digests)",
		Retention: "until `dncgate users totp-reset`, the console's admin reset or `users rm`; a recovery code until used", Readers: storeReaders, Tables: []string{"second_factors", "recovery_codes"}},
	{Kind: "CRM webhook events", What: "opt-outs and erasures waiting to be POSTed to the [[webhooks]]: the event's body as it will be sent (the address unless include_address = false, its keyed digest, the source and the actor), the attempts and the last error",
		Where: "embedded store, table webhook_jobs", Form: datamap.FormPlain + " (the address; its digest keyed)",
		Retention: "until the endpoint accepts the event; a dead-lettered one until `dncgate webhooks retry` delivers it", Readers: storeReaders, Tables: []string{"webhook_jobs"}},
	{Kind: "store bookkeeping", What: "the identity record, list and contacts versions and their change log",
		Where: "embedded store", Form: datamap.FormNone,
		Tables: []string{"identity", "lists", "list_versions", "list_changes", "contact_head", "contact_versions"}},
}
