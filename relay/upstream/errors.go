package upstream

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"

	"github.com/emersion/go-smtp"
)

// Reply codes this package produces itself (RFC 5321 §4.2.3). Codes that the
// upstream sends are passed through unchanged.
const (
	codeLocalError     = 451 // action aborted: local error in processing
	codeServiceClosing = 421 // upstream is closing the channel (RFC 5321 §3.8)
	codeParamSyntax    = 501 // syntax error in parameters or arguments
	codeMailboxUnavail = 550 // not taken; used by RFC 8689 §5 for REQUIRETLS
	codeMailboxSyntax  = 553 // mailbox name not allowed (RFC 6531 §3.6 for UTF-8)
	codeTxFailed       = 554 // transaction failed
)

// Enhanced status codes (RFC 3463 and its registry, RFC 5248).
var (
	ecUnreachable  = smtp.EnhancedCode{4, 4, 1}  // no answer from host
	ecConnLost     = smtp.EnhancedCode{4, 4, 2}  // bad connection
	ecStore        = smtp.EnhancedCode{4, 3, 0}  // other mail system problem
	ecMisconfig    = smtp.EnhancedCode{4, 3, 5}  // system incorrectly configured
	ecBadParam     = smtp.EnhancedCode{5, 5, 4}  // invalid command arguments
	ecNeedConvert  = smtp.EnhancedCode{5, 6, 3}  // conversion required but not supported
	ecUTF8Address  = smtp.EnhancedCode{5, 6, 7}  // non-ASCII address not permitted
	ecUTF8Header   = smtp.EnhancedCode{5, 6, 9}  // UTF-8 header cannot be transferred
	ecRequireTLS   = smtp.EnhancedCode{5, 7, 30} // REQUIRETLS support required (RFC 8689 §5)
	ecLocalProblem = smtp.EnhancedCode{4, 3, 0}  // outbox or body transform failed
)

// Error is what Result.Err holds for an upstream refusal or failure. Code,
// Enhanced and Message are safe to show to the mail client; Cause carries the
// detail (addresses, TLS and network errors) for the operational log only.
type Error struct {
	Code      int
	Enhanced  smtp.EnhancedCode
	Message   string
	Temporary bool
	Cause     error
}

func (e *Error) Error() string {
	s := fmt.Sprintf("%d %d.%d.%d %s", e.Code, e.Enhanced[0], e.Enhanced[1], e.Enhanced[2], e.Message)
	var se *smtp.SMTPError
	if e.Cause != nil && !(errors.As(e.Cause, &se) && se.Code == e.Code) {
		s += ": " + e.Cause.Error()
	}
	return s
}

// Unwrap exposes the cause to errors.Is and errors.As.
func (e *Error) Unwrap() error { return e.Cause }

// SMTP returns the reply to give the mail client, without the cause.
func (e *Error) SMTP() *smtp.SMTPError {
	return &smtp.SMTPError{Code: e.Code, EnhancedCode: e.Enhanced, Message: e.Message}
}

// temporary builds a 451 for an infrastructure failure; the client keeps the
// message and retries (RFC 5321 §4.2.5).
func temporary(ec smtp.EnhancedCode, msg string, cause error) *Error {
	return &Error{Code: codeLocalError, Enhanced: ec, Message: msg, Temporary: true, Cause: cause}
}

// permanent builds a 5xx for a message that can never be relayed as it is.
func permanent(code int, ec smtp.EnhancedCode, msg string) *Error {
	return &Error{Code: code, Enhanced: ec, Message: msg}
}

// fromReply keeps an upstream refusal as the upstream worded it. A code that
// is neither 4xx nor 5xx is a protocol error, treated as a lost connection.
func fromReply(se *smtp.SMTPError) *Error {
	if se.Code < 400 || se.Code > 599 {
		return temporary(ecConnLost, "upstream protocol error", se)
	}
	return &Error{
		Code:      se.Code,
		Enhanced:  se.EnhancedCode,
		Message:   se.Message,
		Temporary: se.Code < 500,
		Cause:     se,
	}
}

// fromTransport maps a failure that is not an upstream reply: a network
// error, EOF, a timeout, a TLS failure or a cancelled context. setup tells
// whether the connection was still being established.
func fromTransport(err error, setup bool) *Error {
	var ue *Error
	if errors.As(err, &ue) {
		return ue
	}
	ec := ecConnLost
	if setup {
		ec = ecUnreachable
	}
	switch {
	case isTLSError(err):
		return temporary(ecConnLost, "upstream TLS negotiation failed", err)
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
