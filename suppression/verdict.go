package suppression

import (
	"strings"

	"github.com/dncgate/dncgate/country"
	"github.com/dncgate/dncgate/smtpreply"
)

// Outcome is what the check says of one recipient.
type Outcome int

const (
	// Allowed: the message may go to the recipient, with the footer.
	Allowed Outcome = iota + 1
	// Refused: the company may not write to the recipient; retrying will
	// not help.
	Refused
	// TempFailed: the check cannot be trusted now (a list past its allowed
	// age); the sender may retry once an admin has acted.
	TempFailed
)

func (o Outcome) String() string {
	switch o {
	case Allowed:
		return "allowed"
	case Refused:
		return "refused"
	case TempFailed:
		return "tempfail"
	}
	return "unknown"
}

// Reason codes, the gateway's closed set of reasons (package smtpreply):
// the reply, the log, the check command and the tests share them. A list
// refusal is "list:" + the list's name; a stale list "stale:" + its name.
const (
	CodeAllowed         = string(smtpreply.Allowed)
	CodeOptOut          = string(smtpreply.OptOut)
	CodeBounced         = string(smtpreply.Bounced)
	CodeAddress         = string(smtpreply.Address)
	CodeConsentRequired = string(smtpreply.ConsentRequired)
	CodePolicyRefused   = string(smtpreply.PolicyRefused)
	codeListPrefix      = string(smtpreply.List) + ":"
	codeStalePrefix     = string(smtpreply.StaleList) + ":"
)

// Verdict is the decision for one recipient and what it rests on: enough
// to answer the rep and to prove to a regulator which list, which version
// and which kind of key decided.
type Verdict struct {
	Outcome Outcome
	Code    string // CodeOptOut, "list:be-dncm", CodeConsentRequired, "stale:be-dncm", …
	Text    string // one ASCII line for the rep, without the address

	// List, Version and KeyKind name the entry that decided: the list, the
	// version ID that answered and the kind of key that matched ("email",
	// "domain", "phone", "email-sha256", …). Empty when no list decided.
	List    string
	Version string
	KeyKind string

	Country     country.Code  // the recipient's country, None when unknown
	CountryFrom string        // "contact", "tld" or "default"
	Language    string        // the CRM contact's language (ISO 639-1), "" unknown
	Type        RecipientType // consumer, sole-trader, business or role
	Rule        Rule          // the policy rule in force for Country and Type

	// Consulted is every list looked up for the recipient, with the
	// version that answered ("" for a list never imported): the proof of
	// what a send rests on. Empty when no list was consulted (an address
	// or the policy refused first).
	Consulted []Consulted

	// Warnings name lists past their allowed age that are set to warn
	// rather than hold mail back.
	Warnings []string
}

// Explain is the reason code and its text, for logs and the check command.
func (v Verdict) Explain() string {
	if v.Text == "" {
		return v.Code
	}
	return v.Code + ": " + v.Text
}

// Reason is the verdict's code without a list's name: one of the closed
// set, for the log and metric labels.
func (v Verdict) Reason() smtpreply.Reason {
	switch {
	case strings.HasPrefix(v.Code, codeListPrefix):
		return smtpreply.List
	case strings.HasPrefix(v.Code, codeStalePrefix):
		return smtpreply.StaleList
	}
	return smtpreply.Reason(v.Code)
}

// ListOf returns the list name in a "list:" or "stale:" code, else "".
func ListOf(code string) string {
	for _, p := range []string{codeListPrefix, codeStalePrefix} {
		if name, ok := strings.CutPrefix(code, p); ok {
			return name
		}
	}
	return ""
}

// Consulted is one list looked up and the version that answered.
type Consulted struct {
	List    string
	Version string
}
