package smtpreply

// Reason says why a reply was given, from a closed set: the log, the
// reports to reps, metric labels and the tests name a refusal by it. A
// list or cap name is never part of a Reason (it goes in the cause), so the
// set stays bounded.
type Reason string

// The recipient decisions. Package suppression's verdict codes are built
// from these: "list:NAME" is List and the list's name, "stale:NAME"
// StaleList.
const (
	Allowed         Reason = "allowed"
	OptOut          Reason = "opt-out"                 // the recipient opted out
	Bounced         Reason = "bounced"                 // mail to the recipient bounced for good, or kept bouncing
	Address         Reason = "address"                 // the address cannot be normalised, so not checked
	ConsentRequired Reason = "policy:consent-required" // consent needed and no clearance list holds them
	PolicyRefused   Reason = "policy:refused"          // the country's rule refuses this kind of recipient
	List            Reason = "list"                    // on a deny list
	StaleList       Reason = "stale"                   // a list that governs them is past its max age
	Cap             Reason = "cap"                     // a frequency cap is full
)

// The other refusals, by the rule or the part that gave them.
const (
	StoreError        Reason = "store-error"        // the store did not answer a check
	LedgerError       Reason = "ledger"             // the send ledger could not record the decision
	UpstreamTemporary Reason = "upstream-temporary" // the upstream failed for now, or could not be reached
	UpstreamPermanent Reason = "upstream-permanent" // the upstream refused, or cannot take the message
	Footer            Reason = "footer"             // the footer cannot be added (signed, too deeply nested)
	AllLeftOut        Reason = "all-left-out"       // every recipient was left out: nothing to send
	Syntax            Reason = "syntax"             // an envelope address is malformed, or needs SMTPUTF8
	Reroutable        Reason = "reroutable"         // a mail server could reroute the address ('%', '!', a source route)
	NoToken           Reason = "no-token"           // no unsubscribe link can be made for the address
	HeaderSyntax      Reason = "header-syntax"      // the From:/Sender: fields are missing, doubled or malformed
	SenderRule        Reason = "sender"             // the envelope or header sender is not the user's
	AuthRequired      Reason = "auth-required"      // no AUTH from an untrusted network
	AuthFailed        Reason = "auth-failed"        // wrong credentials or authorisation identity
	AuthThrottled     Reason = "auth-throttle"      // too many failed logins
	TLSRequired       Reason = "tls-required"       // STARTTLS first
	TrustedIdentity   Reason = "trusted-identity"   // a trusted network's identity is not a user
	Sequence          Reason = "sequence"           // a command out of order
	SizeLimit         Reason = "size"               // the message is too big
	RcptLimit         Reason = "rcpt-limit"         // too many recipients
	LineLength        Reason = "line-length"        // a line is too long
	LineEnding        Reason = "line-ending"        // a bare CR or LF
	NUL               Reason = "nul-byte"           // a NUL byte in the message
	EncodedWord       Reason = "encoded-word"       // an RFC 2047 encoded word in a From:/Sender: address
	ErrorLimit        Reason = "error-limit"        // the connection made too many errors
	ReadFailed        Reason = "read"               // the message could not be read
	Shutdown          Reason = "shutdown"           // the gateway is shutting down
	Internal          Reason = "internal"           // an unexpected local failure
)

// Reasons lists the closed set, for tests and metric registration.
func Reasons() []Reason {
	return []Reason{
		Allowed, OptOut, Bounced, Address, ConsentRequired, PolicyRefused, List, StaleList, Cap,
		StoreError, LedgerError, UpstreamTemporary, UpstreamPermanent, Footer, AllLeftOut,
		Syntax, Reroutable, NoToken, HeaderSyntax, SenderRule, AuthRequired, AuthFailed, AuthThrottled,
		TLSRequired, TrustedIdentity, Sequence, SizeLimit, RcptLimit, LineLength,
		LineEnding, NUL, EncodedWord, ErrorLimit, ReadFailed, Shutdown, Internal,
	}
}

// Known reports whether r is one of Reasons.
func (r Reason) Known() bool {
	for _, k := range Reasons() {
		if r == k {
			return true
		}
	}
	return false
}
