package upstream

import (
	"bytes"
	"strings"

	"github.com/dncgate/dncgate/smtpreply"
	"github.com/emersion/go-smtp"
)

// validate refuses, before any connection is used, what go-smtp's client
// would refuse with an untyped error once MAIL is under way.
func validate(m *message) error {
	switch {
	case m.mopts.Body == smtp.BodyBinaryMIME:
		// RFC 3030 §3: BINARYMIME travels only with BDAT, which go-smtp's
		// client does not send; converting it would change the message.
		return permanent(smtpreply.NoConversion, "binary (BINARYMIME) messages cannot be relayed")
	case hasLineBreak(m.from) || hasLineBreak(m.rcpt.Addr):
		return permanent(smtpreply.BadParam, "address contains a line break")
	case !validDSN(m.mopts, m.rcpt.Opts):
		return permanent(smtpreply.BadParam, "malformed DSN parameter")
	}
	return nil
}

// validDSN checks RET, ENVID, NOTIFY and ORCPT as RFC 3461 §4 defines them.
func validDSN(mo *smtp.MailOptions, ro smtp.RcptOptions) bool {
	if mo.Return != "" && mo.Return != smtp.DSNReturnFull && mo.Return != smtp.DSNReturnHeaders {
		return false
	}
	if !isPrintableASCII(mo.EnvelopeID) || !validNotify(ro.Notify) {
		return false
	}
	if ro.OriginalRecipient == "" {
		return true
	}
	switch ro.OriginalRecipientType {
	case smtp.DSNAddressTypeRFC822:
		return isPrintableASCII(ro.OriginalRecipient)
	case smtp.DSNAddressTypeUTF8:
		return true
	}
	return false
}

// validNotify: NEVER alone, or any of SUCCESS, FAILURE, DELAY (RFC 3461 §4.1).
func validNotify(ns []smtp.DSNNotify) bool {
	for _, n := range ns {
		switch n {
		case smtp.DSNNotifyNever:
			if len(ns) > 1 {
				return false
			}
		case smtp.DSNNotifySuccess, smtp.DSNNotifyFailure, smtp.DSNNotifyDelayed:
		default:
			return false
		}
	}
	return true
}

// mailOptions builds the MAIL parameters for this upstream, or returns a
// permanent *Error when the message needs an extension the upstream lacks.
// go-smtp's client itself adds BODY=8BITMIME whenever the upstream offers
// it, and drops RET and ENVID (and NOTIFY and ORCPT on RCPT) when the
// upstream has no DSN, as a relay does (RFC 3461 §4).
func mailOptions(u *upConn, m *message) (*smtp.MailOptions, error) {
	if err := check8Bit(u, m.body); err != nil {
		return nil, err
	}
	utf8, err := utf8Option(u, m)
	if err != nil {
		return nil, err
	}
	if err := checkRequireTLS(u, m.mopts.RequireTLS); err != nil {
		return nil, err
	}
	return &smtp.MailOptions{
		Size:       int64(len(m.body)),
		UTF8:       utf8,
		RequireTLS: m.mopts.RequireTLS,
		Return:     m.mopts.Return,
		EnvelopeID: m.mopts.EnvelopeID,
	}, nil
}

// check8Bit: an 8-bit message must not go to a server without 8BITMIME
// (RFC 6152 §3); converting it is out of scope, so it is returned.
func check8Bit(u *upConn, body []byte) error {
	if has(u, "8BITMIME") || !has8Bit(body) {
		return nil
	}
	return permanent(smtpreply.NoConversion, "upstream cannot take 8-bit mail")
}

// utf8Option decides SMTPUTF8 on MAIL. Without it at the upstream, a message
// with a non-ASCII address or header cannot be relayed (RFC 6531 §3.2); one
// that only asked for it can go without.
func utf8Option(u *upConn, m *message) (bool, error) {
	addr := !isASCII(m.from) || !isASCII(m.rcpt.Addr)
	if has(u, "SMTPUTF8") {
		return m.mopts.UTF8 || addr, nil
	}
	switch {
	case addr:
		return false, permanent(smtpreply.NeedUTF8, "upstream cannot take non-ASCII addresses")
	case m.mopts.UTF8 && !isASCII(string(header(m.body))):
		return false, permanent(smtpreply.UTF8Header, "upstream cannot take UTF-8 headers")
	}
	return false, nil
}

// checkRequireTLS: REQUIRETLS mail goes on only over TLS to a server that
// offers REQUIRETLS itself (RFC 8689 §4.1, §5).
func checkRequireTLS(u *upConn, want bool) error {
	if !want || (u.tls && has(u, "REQUIRETLS")) {
		return nil
	}
	return permanent(smtpreply.NeedRequireTLS, "REQUIRETLS support required")
}

// rcptOptions keeps NOTIFY and ORCPT (RFC 3461 §4.1, §4.2); the other RCPT
// parameters concern the client's own hop.
func rcptOptions(o smtp.RcptOptions) *smtp.RcptOptions {
	return &smtp.RcptOptions{
		Notify:                o.Notify,
		OriginalRecipientType: o.OriginalRecipientType,
		OriginalRecipient:     o.OriginalRecipient,
	}
}

// has reads the extensions the upstream announced at the last EHLO; no
// network traffic, since the client is always greeted when pooled.
func has(u *upConn, ext string) bool {
	ok, _ := u.c.Extension(ext)
	return ok
}

// header returns the header section: everything before the first empty line.
func header(body []byte) []byte {
	if i := bytes.Index(body, []byte("\r\n\r\n")); i >= 0 {
		return body[:i]
	}
	return body
}

func has8Bit(b []byte) bool {
	for _, c := range b {
		if c >= 0x80 {
			return true
		}
	}
	return false
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

func isPrintableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < ' ' || s[i] > '~' {
			return false
		}
	}
	return true
}

func hasLineBreak(s string) bool { return strings.ContainsAny(s, "\r\n") }
