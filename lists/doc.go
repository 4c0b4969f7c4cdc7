// Package lists is where suppression and contact list entries come from:
// the kinds of key a list holds, the normalisation that makes a value
// written any common way into the one key a lookup will use, and a
// streaming reader for the CSV-like files lists and CRM exports come in.
package lists
