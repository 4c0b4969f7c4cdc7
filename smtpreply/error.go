// Package smtpreply is the one home of the gateway's SMTP replies: named
// reply and enhanced codes, the closed set of reasons, and the one error
// type that keeps what the client is told apart from what only the log
// sees. Every reply a session gives is built from an *Error by Reply.
package smtpreply

import (
	"errors"
	"fmt"
	"strings"

	"github.com/emersion/go-smtp"
)

// Error is a refusal: the status and the client-safe text the client gets,
// the reason from the closed set, and the cause for the log only
// (addresses, store and network errors).
type Error struct {
	Status
	Text   string // one printable ASCII line, safe to show the client
	Reason Reason
	Cause  error // may be nil
}

// New builds an Error. text must already be safe for the client (see
// ClientText for text from elsewhere).
func New(st Status, reason Reason, text string, cause error) *Error {
	return &Error{Status: st, Text: text, Reason: reason, Cause: cause}
}

func (e *Error) Error() string {
	s := fmt.Sprintf("%d %d.%d.%d %s [%s]", e.Code, e.Enhanced[0], e.Enhanced[1], e.Enhanced[2], e.Text, e.Reason)
	if e.Cause != nil && !sameReply(e) {
		s += ": " + e.Cause.Error()
	}
	return s
}

// sameReply: an upstream reply passed on as it came is not repeated.
func sameReply(e *Error) bool {
	var se *smtp.SMTPError
	return errors.As(e.Cause, &se) && se.Code == e.Code && se.Message == e.Text
}

// Unwrap exposes the cause to errors.Is and errors.As.
func (e *Error) Unwrap() error { return e.Cause }

// As returns the *Error in err's chain. Any other error is an unexpected
// local failure and becomes a 451 (RFC 5321 §4.2.5: the client keeps the
// message), never the permanent reply go-smtp would make of a plain error.
func As(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return New(Local, Internal, "Local error, try again later", err)
}

// Reply is the one function that turns an error into what go-smtp writes.
// ref, when set, ends the text, so that the rep can quote it to a manager.
func Reply(err error, ref string) *smtp.SMTPError {
	e := As(err)
	text := e.Text
	if ref != "" {
		text += " (ref " + ref + ")"
	}
	return &smtp.SMTPError{Code: e.Code, EnhancedCode: e.Enhanced, Message: text}
}

// Success is the reply for an accepted command whose text go-smtp would
// otherwise choose.
func Success(st Status, text, ref string) *smtp.SMTPError {
	return Reply(New(st, Allowed, text, nil), ref)
}

// FromSMTP keeps a reply of another server (the upstream) as it was
// worded, made safe to pass on. A code that is neither 4xx nor 5xx is a
// protocol error, treated as a lost connection.
func FromSMTP(se *smtp.SMTPError, maxText int) *Error {
	switch {
	case se.Code >= 400 && se.Code < 500:
		return New(Status{se.Code, se.EnhancedCode}, UpstreamTemporary, ClientText(se.Message, maxText), se)
	case se.Code >= 500 && se.Code < 600:
		return New(Status{se.Code, se.EnhancedCode}, UpstreamPermanent, ClientText(se.Message, maxText), se)
	}
	return New(ConnLost, UpstreamTemporary, "upstream protocol error", se)
}

// ClientText makes text from elsewhere (an upstream reply) safe for one
// reply line: printable ASCII only, bounded length.
func ClientText(s string, max int) string {
	s = strings.Map(func(r rune) rune {
		if r < ' ' || r > '~' {
			return ' '
		}
		return r
	}, s)
	s = strings.TrimSpace(s)
	if len(s) > max {
		s = s[:max] + "..."
	}
	return s
}
