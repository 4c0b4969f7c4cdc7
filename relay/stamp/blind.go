package stamp

import "strings"

// isBlind picks the fields that list blind recipients: Bcc (RFC 5322
// §3.6.3) and Resent-Bcc (§3.6.6). A client that leaves them in the
// message it submits (swaks and Python's smtplib do; msmtp does not)
// relies on the submission server to take them out, and every copy here
// goes to a recipient who must not learn who else got it.
func isBlind(name string) bool {
	return strings.EqualFold(name, "bcc") || strings.EqualFold(name, "resent-bcc")
}

// dropBlind returns raw without its Bcc and Resent-Bcc fields; a message
// without any, the usual case, is returned as it is.
func dropBlind(raw []byte) []byte {
	if !hasField(raw, isBlind) {
		return raw
	}
	out, _, _ := removeFields(raw, isBlind)
	return out
}
