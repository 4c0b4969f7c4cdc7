package redisstore

import "github.com/dncgate/dncgate/datamap"

// storeReaders is who can read the Redis store.
const storeReaders = "whoever Redis lets in (its ACL user and password); admins through the CLI"

// DataMap declares every kind of key (the first part of a key's name;
// datamap_test.go fails on a kind none covers).
var DataMap = []datamap.Entry{
	{Kind: "users", What: "the reps, managers and admins who log in: login address, role, send-as addresses, bcrypt password hash, whether disabled (when, by whom), the last login",
		Where: "Redis, {users} and {users}:EMAIL", Form: datamap.FormPlain + " (the password as a bcrypt hash)",
		Retention: "until `dncgate users rm`", Readers: storeReaders, Keys: []string{"users"}},
	{Kind: "login attempts", What: "failed logins counted for the lock-out: the login name and the client's address (IPv4, or IPv6 /64) in the key's name",
		Where: "Redis, {login}:KEY and cnt:{KEY}", Form: datamap.FormPlain,
		Retention: "the lock-out window (the key's TTL)", Readers: storeReaders, Keys: []string{"login", "cnt"}},
	{Kind: "delivered markers", What: "which recipients of a message the upstream accepted, so a client's retry reaches only the others",
		Where: "Redis, dlv:{MSG}", Form: datamap.FormDigest + " (of the message and of the recipient)",
		Retention: "limits.remember_delivered (the key's TTL)", Readers: storeReaders, Keys: []string{"dlv"}},
	{Kind: "cap counts", What: "sends and holds counted against each frequency cap, per recipient, domain, rep or organisation",
		Where: "Redis, cap:{KEY}", Form: datamap.FormDigest + " (of the cap and its subject)",
		Retention: "the cap's window; `caps reset` and `optout erase` delete a person's", Readers: storeReaders, Keys: []string{"cap"}},
	{Kind: "list entries and opt-outs", What: "the values of each suppression list, the opt-out list's addresses included, per version",
		Where: "Redis, le:{LIST:VERSION:BUCKET} and lm:{LIST} (by hand and opt-outs)", Form: datamap.FormDigest,
		Retention: "an import's entries until the version leaves the kept ones (keep_versions); opt-outs and entries by hand until `lists remove`: an opt-out is kept for good, as the tombstone that keeps the person suppressed",
		Readers:   storeReaders, Keys: []string{"le", "lm"}},
	{Kind: "decisions by hand", What: "who added or removed a list value by hand, when and why",
		Where: "Redis, ml:{LIST}", Form: datamap.FormMasked + " (the value; the reason as written)",
		Retention: "until the list is dropped", Readers: storeReaders, Keys: []string{"ml"}},
	{Kind: "CRM contacts", What: "an address's phone numbers, country, recipient type and language, to apply phone lists and country rules and choose the footer's language",
		Where: "Redis, ce:{VERSION:BUCKET}", Form: datamap.FormDigest + " (address and numbers; country, type and language plain)",
		Retention: "until the next `contacts import`; `optout erase` deletes one", Readers: storeReaders, Keys: []string{"ce"}},
	{Kind: "console sessions", What: "who is logged in to the web console: the login address, the step of the login, the CSRF token, the login and last-request times; each user's index of them",
		Where: "Redis, sess:{users}:ID and sessof:{users}:EMAIL", Form: datamap.FormPlain + " (the session's name is the SHA-256 of the browser's secret, never the secret)",
		Retention: "[console] session_idle after the last request (the key's TTL), session_max after the login; logout, `users totp-reset` and `users rm` delete them", Readers: storeReaders, Keys: []string{"sess", "sessof"}},
	{Kind: "second factors", What: "a console user's TOTP secret and the digests of their unused recovery codes",
		Where: "Redis, tf:{users}:EMAIL and rc:{users}:EMAIL", Form: datamap.FormPlain + " (the TOTP secret; the recovery codes as SHA-256 digests)",
		Retention: "until `dncgate users totp-reset`, the console's admin reset or `users rm`; a recovery code until used", Readers: storeReaders, Keys: []string{"tf", "rc"}},
	{Kind: "CRM webhook events", What: "opt-outs and erasures waiting to be POSTed to the [[webhooks]]: the event's body as it will be sent (the address unless include_address = false, its keyed digest, the source and the actor), the attempts and the last error",
		Where: "Redis, {webhooks}:jobs, {webhooks}:due and {webhooks}:dead", Form: datamap.FormPlain + " (the address; its digest keyed)",
		Retention: "until the endpoint accepts the event; a dead-lettered one until `dncgate webhooks retry` delivers it", Readers: storeReaders, Keys: []string{"webhooks"}},
	{Kind: "store bookkeeping", What: "the identity record, the list index, list heads and the contacts' head",
		Where: "Redis", Form: datamap.FormNone, Keys: []string{"identity", "lists", "list", "ct"}},
}

// KeyKind is the kind a key (without prefix) belongs to: the first part
// of its name ("le" of "le:{…}", "users" of "{users}:…").
func KeyKind(key string) string {
	if len(key) > 0 && key[0] == '{' {
		key = key[1:]
	}
	for i := 0; i < len(key); i++ {
		if key[i] == ':' || key[i] == '{' || key[i] == '}' {
			return key[:i]
		}
	}
	return key
}
