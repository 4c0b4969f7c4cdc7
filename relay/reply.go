package relay

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/emersion/go-smtp"
)

// Reply codes (RFC 5321 §4.2.3, RFC 4954 §6 for AUTH).
const (
	codeOK              = 250 // requested action completed
	codeClosing         = 421 // service not available, closing channel
	codeLocalError      = 451 // aborted: local error in processing
	codeTooManyRcpts    = 452 // too many recipients (RFC 5321 §4.5.3.1.10)
	codeTempAuth        = 454 // temporary authentication failure (RFC 4954 §6)
	codeLineTooLong     = 500 // syntax error, including a line too long
	codeBadArgs         = 501 // syntax error in parameters or arguments
	codeBadSequence     = 503 // bad sequence of commands
	codeAuthRequired    = 530 // authentication required (RFC 4954 §6), or STARTTLS first (RFC 3207 §4)
	codeAuthFailed      = 535 // authentication credentials invalid (RFC 4954 §6)
	codeNeedEncryption  = 538 // encryption required for the mechanism (RFC 4954 §6)
	codeRefused         = 550 // mailbox unavailable / not taken
	codeTooBig          = 552 // exceeded storage allocation
	codeMailboxNotAllow = 553 // mailbox name not allowed
	codeTxFailed        = 554 // transaction failed
)

// status is a reply code with its enhanced code (RFC 3463, registry RFC 5248).
type status struct {
	code int
	enh  smtp.EnhancedCode
}

// The statuses this package answers with. They are values: copying one
// cannot change another.
var (
	stDelivered      = status{codeOK, smtp.EnhancedCode{2, 0, 0}}
	stShuttingDown   = status{codeClosing, smtp.EnhancedCode{4, 3, 2}}      // system not accepting messages
	stTooManyConns   = status{codeClosing, smtp.EnhancedCode{4, 7, 0}}      // connection limit reached
	stTooManyErrors  = status{codeClosing, smtp.EnhancedCode{4, 7, 0}}      // error limit reached
	stLocal          = status{codeLocalError, smtp.EnhancedCode{4, 3, 0}}   // other mail system problem
	stMisconfigured  = status{codeLocalError, smtp.EnhancedCode{4, 3, 5}}   // system incorrectly configured
	stReadFailed     = status{codeLocalError, smtp.EnhancedCode{4, 4, 2}}   // bad connection
	stUpstreamTemp   = status{codeLocalError, smtp.EnhancedCode{4, 4, 0}}   // other network or routing status
	stTooManyRcpts   = status{codeTooManyRcpts, smtp.EnhancedCode{4, 5, 3}} // too many recipients
	stAuthTemp       = status{codeTempAuth, smtp.EnhancedCode{4, 7, 0}}     // RFC 4954 §6
	stLineTooLong    = status{codeLineTooLong, smtp.EnhancedCode{5, 5, 0}}
	stBadAddress     = status{codeBadArgs, smtp.EnhancedCode{5, 1, 3}}     // bad destination mailbox syntax
	stBadSender      = status{codeBadArgs, smtp.EnhancedCode{5, 1, 7}}     // bad sender's mailbox syntax
	stBadSequence    = status{codeBadSequence, smtp.EnhancedCode{5, 5, 1}} // invalid command
	stAuthRequired   = status{codeAuthRequired, smtp.EnhancedCode{5, 7, 0}}
	stAuthFailed     = status{codeAuthFailed, smtp.EnhancedCode{5, 7, 8}}      // credentials invalid
	stNeedEncryption = status{codeNeedEncryption, smtp.EnhancedCode{5, 7, 11}} // encryption required
	stHeaderDenied   = status{codeRefused, smtp.EnhancedCode{5, 7, 1}}         // delivery not authorized
	stBadHeader      = status{codeRefused, smtp.EnhancedCode{5, 6, 0}}         // other media error
	stBareLineEnd    = status{codeRefused, smtp.EnhancedCode{5, 6, 11}}        // invalid line ending (RFC 5248 registry)
	stNULByte        = status{codeRefused, smtp.EnhancedCode{5, 6, 0}}         // other media error
	stTooBig         = status{codeTooBig, smtp.EnhancedCode{5, 3, 4}}          // message too big for system
	stSenderDenied   = status{codeMailboxNotAllow, smtp.EnhancedCode{5, 7, 1}}
	stNeedUTF8       = status{codeMailboxNotAllow, smtp.EnhancedCode{5, 6, 7}} // RFC 6531 §3.5
	stUpstreamPerm   = status{codeTxFailed, smtp.EnhancedCode{5, 0, 0}}
)

// replyError keeps what the client is told (status and text) apart from what
// only the log sees (check and cause).
type replyError struct {
	st    status
	text  string // client-safe
	check string // which rule produced it, for the log
	cause error  // detail for the log; may be nil
}

func (e *replyError) Error() string {
	s := fmt.Sprintf("%d %d.%d.%d %s [%s]", e.st.code, e.st.enh[0], e.st.enh[1], e.st.enh[2], e.text, e.check)
	if e.cause != nil {
		s += ": " + e.cause.Error()
	}
	return s
}

func (e *replyError) Unwrap() error { return e.cause }

func refuse(st status, check, text string, cause error) *replyError {
	return &replyError{st: st, text: text, check: check, cause: cause}
}

// toSMTP is the one place where errors become replies: any error that is not
// a *replyError is an unexpected local failure and becomes a 451, never the
// permanent reply go-smtp would make of it. ref, when set, ends the text so
// that the rep can quote it to a manager.
func toSMTP(err error, ref string, log *slog.Logger) *smtp.SMTPError {
	var re *replyError
	if !errors.As(err, &re) {
		re = refuse(stLocal, "internal", "Local error, try again later", err)
	}
	logRefusal(log, re, ref)
	text := re.text
	if ref != "" {
		text += " (ref " + ref + ")"
	}
	return &smtp.SMTPError{Code: re.st.code, EnhancedCode: re.st.enh, Message: text}
}

func logRefusal(log *slog.Logger, re *replyError, ref string) {
	level := slog.LevelInfo
	if re.st.code/100 == 4 {
		level = slog.LevelWarn
	}
	attrs := []any{"ref", ref, "check", re.check, "code", re.st.code, "reply", re.text}
	if re.cause != nil {
		attrs = append(attrs, "cause", re.cause.Error())
	}
	log.Log(context.Background(), level, "refused", attrs...)
}

// clientText makes text from elsewhere (an upstream reply) safe for one
// reply line: printable ASCII only, bounded length.
func clientText(s string, max int) string {
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
