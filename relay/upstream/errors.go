package upstream

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"

	"github.com/dncgate/dncgate/smtpreply"
	"github.com/emersion/go-smtp"
)

// maxReplyText bounds the text of an upstream reply kept for the client.
const maxReplyText = 200

// codeServiceClosing is the upstream closing the channel (RFC 5321 §3.8).
const codeServiceClosing = smtpreply.CodeClosing

// Result.Err holds an *smtpreply.Error for an upstream refusal or failure:
// its status and text are safe to show the mail client; its cause carries
// the detail (addresses, TLS and network errors) for the log only.

// temporary builds a 451 for an infrastructure failure; the client keeps the
// message and retries (RFC 5321 §4.2.5).
func temporary(st smtpreply.Status, msg string, cause error) *smtpreply.Error {
	return smtpreply.New(st, smtpreply.UpstreamTemporary, msg, cause)
}

// permanent builds a 5xx for a message that can never be relayed as it is.
func permanent(st smtpreply.Status, msg string) *smtpreply.Error {
	return smtpreply.New(st, smtpreply.UpstreamPermanent, msg, nil)
}

// fromReply keeps an upstream refusal as the upstream worded it.
func fromReply(se *smtp.SMTPError) *smtpreply.Error {
	return smtpreply.FromSMTP(se, maxReplyText)
}

// fromTransport maps a failure that is not an upstream reply: a network
// error, EOF, a timeout, a TLS failure or a cancelled context. setup tells
// whether the connection was still being established.
func fromTransport(err error, setup bool) *smtpreply.Error {
	var ue *smtpreply.Error
	if errors.As(err, &ue) {
		return ue
	}
	ec := smtpreply.ConnLost
	if setup {
		ec = smtpreply.Unreachable
	}
	switch {
	case isTLSError(err):
		return temporary(smtpreply.ConnLost, "upstream TLS negotiation failed", err)
	case errors.Is(err, context.Canceled):
		return temporary(ec, "upstream transaction cancelled", err)
	case isTimeout(err):
		return temporary(ec, "upstream timed out", err)
	case setup:
		return temporary(ec, "upstream unreachable", err)
	}
	return temporary(ec, "upstream connection lost", err)
}

// isTimeout covers both a context deadline and a socket deadline.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
}

// isTLSError reports whether err comes from certificate verification or
// the TLS record layer.
func isTLSError(err error) bool {
	var (
		verify   *tls.CertificateVerificationError
		alert    tls.AlertError
		record   tls.RecordHeaderError
		unknown  x509.UnknownAuthorityError
		hostname x509.HostnameError
		invalid  x509.CertificateInvalidError
	)
	return errors.As(err, &verify) || errors.As(err, &alert) ||
		errors.As(err, &record) || errors.As(err, &unknown) ||
		errors.As(err, &hostname) || errors.As(err, &invalid)
}
