package relay

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/dncgate/dncgate/country"
	"github.com/dncgate/dncgate/lists"
	"github.com/dncgate/dncgate/suppression"
	"github.com/emersion/go-smtp"
)

// RecipientCheck decides whether a recipient may be written to; package
// suppression's Checker is one.
type RecipientCheck interface {
	Decide(ctx context.Context, sender, rcpt string, now time.Time) (suppression.Verdict, error)
}

// RefusalMode is how a listener answers for a recipient the check or a
// cap refuses.
type RefusalMode int

const (
	// Reject refuses the recipient at RCPT with 550 5.7.1 and the reason.
	// The zero value, for callers of this package; the configuration's
	// default is DropAndNotify.
	Reject RefusalMode = iota
	// DropAndNotify accepts the recipient, leaves it out of the delivery
	// and sends the rep a report naming it with the reason. Outlook,
	// Thunderbird and many apps abort the whole message when one RCPT is
	// refused.
	DropAndNotify
)

func (m RefusalMode) String() string {
	if m == DropAndNotify {
		return "drop-and-notify"
	}
	return "reject"
}

// checkTimeout bounds one recipient check: beyond it the recipient gets a
// 451 and the client retries.
const checkTimeout = 5 * time.Second

// Recipient check replies: a refusal is a policy decision about this
// recipient (RFC 3463 §3.8, X.7.1 delivery not authorized); a list past its
// age is temporary (4.7.1); a store that cannot answer is a local problem
// (4.3.0).
var (
	stRcptRefused = status{codeRefused, smtp.EnhancedCode{5, 7, 1}}
	stRcptBadKey  = status{codeRefused, smtp.EnhancedCode{5, 1, 3}}
	stRcptHeld    = status{codeLocalError, smtp.EnhancedCode{4, 7, 1}}
	// stRcptRoute refuses an address a mail server could reroute: the
	// mailbox name is not allowed (RFC 5321 §4.2.3 553; RFC 3463 X.1.3 bad
	// destination mailbox address syntax), answered at RCPT whatever the
	// listener's on_refusal, as for any address in error.
	stRcptRoute = status{codeMailboxNotAllow, smtp.EnhancedCode{5, 1, 3}}
)

// recipientKey names the recipient to within the transaction by its
// normalised address, refusing an address a mail server could reroute
// (lists.Recipients). An address with no normalised form keeps its
// lower-cased spelling here: the recipient check refuses it, and no
// store key is made of it.
func recipientKey(r *lists.Recipients, to string) (string, error) {
	key, err := r.Normalise(to)
	var ve *lists.ValueError
	switch {
	case err == nil:
		return key, nil
	case errors.Is(err, lists.ErrReroutable) && errors.As(err, &ve):
		return "", refuse(stRcptRoute, "rcpt-route", fmt.Sprintf("<%s>: %s", safeAddr(to), ve.Reason), nil)
	}
	return strings.ToLower(to), nil
}

// dropped is a recipient left out in drop-and-notify mode.
type dropped struct {
	addr  string
	reply *replyError // what reject mode would have answered
}

// checkRecipient runs the recipient check. It returns the country the
// check found (None when none ran) and, for a recipient that may not be
// written to, the refusal to answer at RCPT.
func (s *session) checkRecipient(tx *transaction, to string) (country.Code, *replyError) {
	chk := s.opts.Check
	if chk == nil {
		return country.None, nil
	}
	ctx, cancel := context.WithTimeout(s.ctx, checkTimeout)
	defer cancel()
	v, err := chk.Decide(ctx, s.user.Email, to, s.opts.Now())
	if err != nil {
		return country.None, refuse(stLocal, "recipient-check", "Recipient check unavailable, try again later", err)
	}
	s.logVerdict(tx.ref, to, v)
	switch v.Outcome {
	case suppression.Allowed:
		return v.Country, nil
	case suppression.TempFailed:
		return country.None, refuse(stRcptHeld, v.Code, rcptText(to, v), nil)
	}
	st := stRcptRefused
	if v.Code == suppression.CodeAddress {
		st = stRcptBadKey
	}
	return "", refuse(st, v.Code, rcptText(to, v), nil)
}

// rcptText is the reply text for a recipient that may not be written to:
// "<jean@acme.be>: on the be-dncm list (phone match) [list:be-dncm]".
func rcptText(to string, v suppression.Verdict) string {
	return "<" + safeAddr(to) + ">: " + clientText(fmt.Sprintf("%s [%s]", v.Text, v.Code), maxReplyText)
}

// maxReplyText bounds a reply line's text (RFC 5321 §4.5.3.1.5 allows 512
// octets with the code and CRLF).
const maxReplyText = 400

// logVerdict records what a refusal rests on (list, version, kind of key):
// the proof that the list was consulted. Allowed recipients are logged at
// debug level, with the warnings of lists set to warn when stale.
func (s *session) logVerdict(ref, to string, v suppression.Verdict) {
	for _, w := range v.Warnings {
		s.log.Warn("stale list used", "ref", ref, "warning", w)
	}
	if v.Outcome == suppression.Allowed && !s.log.Enabled(s.ctx, slog.LevelDebug) {
		return // the common case, on every recipient: build nothing
	}
	attrs := []any{"ref", ref, "rcpt", safeAddr(lists.MaskEmail(to)), "rep", s.user.Email, "verdict", v.Outcome.String(),
		"code", v.Code, "country", v.Country.String(), "country_from", v.CountryFrom, "type", string(v.Type)}
	if v.List != "" {
		attrs = append(attrs, "list", v.List, "version", v.Version, "key_kind", v.KeyKind)
	}
	if v.Outcome == suppression.Allowed {
		s.log.Debug("recipient check", attrs...)
		return
	}
	s.log.Info("recipient check", attrs...)
}
