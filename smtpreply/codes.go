package smtpreply

import "github.com/emersion/go-smtp"

// Reply codes (RFC 5321 §4.2.3; RFC 4954 §6 for AUTH, RFC 3207 §4 for
// STARTTLS).
const (
	CodeOK             = 250 // requested action completed
	CodeClosing        = 421 // service not available, closing channel
	CodeLocalError     = 451 // aborted: local error in processing
	CodeTooManyRcpts   = 452 // too many recipients (RFC 5321 §4.5.3.1.10)
	CodeTempAuth       = 454 // temporary authentication failure
	CodeSyntax         = 500 // syntax error, including a line too long
	CodeBadArgs        = 501 // syntax error in parameters or arguments
	CodeBadSequence    = 503 // bad sequence of commands
	CodeAuthRequired   = 530 // authentication required, or STARTTLS first
	CodeAuthFailed     = 535 // authentication credentials invalid
	CodeNeedEncryption = 538 // encryption required for the mechanism
	CodeRefused        = 550 // mailbox unavailable / not taken
	CodeTooBig         = 552 // exceeded storage allocation
	CodeNotAllowed     = 553 // mailbox name not allowed
	CodeTxFailed       = 554 // transaction failed
)

// Status is a reply code with its enhanced code (RFC 3463, registry RFC
// 5248). It is a value: copying one cannot change another.
type Status struct {
	Code     int
	Enhanced smtp.EnhancedCode
}

// The statuses the gateway answers with, by what they mean. Like go-smtp's
// own sentinel replies they are variables only because an array cannot be
// a constant; nothing assigns to them.
var (
	OK          = Status{CodeOK, smtp.EnhancedCode{2, 0, 0}}
	RecipientOK = Status{CodeOK, smtp.EnhancedCode{2, 1, 5}} // destination address valid

	ShuttingDown  = Status{CodeClosing, smtp.EnhancedCode{4, 3, 2}}    // system not accepting messages
	TooManyConns  = Status{CodeClosing, smtp.EnhancedCode{4, 7, 0}}    // a connection limit is reached
	TooManyErrors = Status{CodeClosing, smtp.EnhancedCode{4, 7, 0}}    // the connection's error limit is reached
	Local         = Status{CodeLocalError, smtp.EnhancedCode{4, 3, 0}} // other mail system problem
	Misconfigured = Status{CodeLocalError, smtp.EnhancedCode{4, 3, 5}} // system incorrectly configured
	Unreachable   = Status{CodeLocalError, smtp.EnhancedCode{4, 4, 1}} // no answer from host
	ConnLost      = Status{CodeLocalError, smtp.EnhancedCode{4, 4, 2}} // bad connection
	NetworkTemp   = Status{CodeLocalError, smtp.EnhancedCode{4, 4, 0}} // other network or routing status
	PolicyTemp    = Status{CodeLocalError, smtp.EnhancedCode{4, 7, 1}} // delivery not authorized, for now
	TooManyRcpts  = Status{CodeTooManyRcpts, smtp.EnhancedCode{4, 5, 3}}
	AuthTemp      = Status{CodeTempAuth, smtp.EnhancedCode{4, 7, 0}}

	LineTooLong    = Status{CodeSyntax, smtp.EnhancedCode{5, 5, 0}}
	BadAddress     = Status{CodeBadArgs, smtp.EnhancedCode{5, 1, 3}} // bad destination mailbox syntax
	BadSender      = Status{CodeBadArgs, smtp.EnhancedCode{5, 1, 7}} // bad sender's mailbox syntax
	BadParam       = Status{CodeBadArgs, smtp.EnhancedCode{5, 5, 4}} // invalid command arguments
	BadSequence    = Status{CodeBadSequence, smtp.EnhancedCode{5, 5, 1}}
	NoAuth         = Status{CodeAuthRequired, smtp.EnhancedCode{5, 7, 0}}
	BadCredentials = Status{CodeAuthFailed, smtp.EnhancedCode{5, 7, 8}}      // credentials invalid
	NeedEncryption = Status{CodeNeedEncryption, smtp.EnhancedCode{5, 7, 11}} // encryption required
	Denied         = Status{CodeRefused, smtp.EnhancedCode{5, 7, 1}}         // delivery not authorized
	BadKey         = Status{CodeRefused, smtp.EnhancedCode{5, 1, 3}}         // address cannot be checked
	NoSuchMailbox  = Status{CodeRefused, smtp.EnhancedCode{5, 1, 1}}         // bad destination mailbox address
	BadHeader      = Status{CodeRefused, smtp.EnhancedCode{5, 6, 0}}         // other media error
	BareLineEnd    = Status{CodeRefused, smtp.EnhancedCode{5, 6, 11}}        // invalid line ending
	NULByte        = Status{CodeRefused, smtp.EnhancedCode{5, 6, 0}}         // other media error: NUL in the data
	NeedRequireTLS = Status{CodeRefused, smtp.EnhancedCode{5, 7, 30}}        // REQUIRETLS needed (RFC 8689 §5)
	TooBig         = Status{CodeTooBig, smtp.EnhancedCode{5, 3, 4}}          // message too big for system
	SenderDenied   = Status{CodeNotAllowed, smtp.EnhancedCode{5, 7, 1}}
	MailboxSyntax  = Status{CodeNotAllowed, smtp.EnhancedCode{5, 1, 3}} // mailbox name not allowed
	NeedUTF8       = Status{CodeNotAllowed, smtp.EnhancedCode{5, 6, 7}} // RFC 6531 §3.5
	Failed         = Status{CodeTxFailed, smtp.EnhancedCode{5, 0, 0}}
	BadMedia       = Status{CodeTxFailed, smtp.EnhancedCode{5, 6, 0}} // other media error
	NoConversion   = Status{CodeTxFailed, smtp.EnhancedCode{5, 6, 3}} // conversion required, not supported
	UTF8Header     = Status{CodeTxFailed, smtp.EnhancedCode{5, 6, 9}} // UTF-8 header cannot be transferred
)

// Temporary reports whether the client should try again later (4xx).
func (s Status) Temporary() bool { return s.Code/100 == 4 }
