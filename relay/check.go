package relay

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/dncgate/dncgate/lists"
	"github.com/dncgate/dncgate/smtpreply"
	"github.com/dncgate/dncgate/suppression"
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
		// 553 5.1.3 (RFC 5321 §4.2.3, RFC 3463 X.1.3) at RCPT whatever the
		// listener's on_refusal, as for any address in error.
		return "", smtpreply.New(smtpreply.MailboxSyntax, smtpreply.Reroutable, smtpreply.Path(to)+": "+smtpreply.ClientText(ve.Reason, maxReplyText), nil)
	}
	return strings.ToLower(to), nil
}

// dropped is a recipient left out in drop-and-notify mode.
type dropped struct {
	addr  string
	reply *smtpreply.Error // what reject mode would have answered
}

// checkRecipient runs the recipient check. It returns the verdict (zero
// when none ran or the store failed) and, for a recipient that may not be
// written to, the refusal to answer at RCPT. A refusal carries the verdict
// as its cause, so that its one log line holds the proof: which list,
// which version, which kind of key.
//
// Replies: a refusal is a policy decision about this recipient (RFC 3463
// §3.8, X.7.1 delivery not authorized), an address that cannot be checked
// is a bad address (5.1.3); a list past its age is temporary (4.7.1); a
// store that cannot answer is a local problem (4.3.0).
func (s *session) checkRecipient(tx *transaction, to string) (suppression.Verdict, *smtpreply.Error) {
	chk := s.opts.Check
	if chk == nil {
		return suppression.Verdict{}, nil
	}
	ctx, cancel := context.WithTimeout(s.ctx, checkTimeout)
	defer cancel()
	start := time.Now() // wall clock: a test's fake clock does not move
	v, err := chk.Decide(ctx, s.user.Email, to, s.opts.Now())
	s.srv.opts.Metrics.checked(time.Since(start))
	if err != nil {
		return suppression.Verdict{}, smtpreply.New(smtpreply.Local, smtpreply.StoreError, "Recipient check unavailable, try again later", err)
	}
	s.logVerdict(tx.ref, to, v)
	st := smtpreply.Denied
	switch {
	case v.Outcome == suppression.Allowed:
		return v, nil
	case v.Outcome == suppression.TempFailed:
		st = smtpreply.PolicyTemp
	case v.Code == suppression.CodeAddress:
		st = smtpreply.BadKey
	}
	return v, smtpreply.New(st, v.Reason(), rcptText(to, v), verdictCause{v})
}

// rcptText is the reply text for a recipient that may not be written to:
// "<jean@acme.be>: on the be-dncm list (phone match) [list:be-dncm]".
func rcptText(to string, v suppression.Verdict) string {
	return smtpreply.Path(to) + ": " + smtpreply.ClientText(fmt.Sprintf("%s [%s]", v.Text, v.Code), maxReplyText)
}

// maxReplyText bounds a reply line's text (RFC 5321 §4.5.3.1.5 allows 512
// octets with the code and CRLF).
const maxReplyText = 400

// verdictCause is the verdict behind a refusal, for the log only.
type verdictCause struct{ v suppression.Verdict }

func (c verdictCause) Error() string { return c.v.Explain() }

// LogValue is what the refusal's line records of the verdict.
func (c verdictCause) LogValue() slog.Value {
	v := c.v
	attrs := []slog.Attr{slog.String("outcome", v.Outcome.String()), slog.String("code", v.Code),
		slog.String("country", v.Country.String()), slog.String("country_from", v.CountryFrom), slog.String("type", string(v.Type))}
	if v.List != "" {
		attrs = append(attrs, slog.String("list", v.List), slog.String("version", v.Version), slog.String("key_kind", v.KeyKind))
	}
	return slog.GroupValue(attrs...)
}

// logVerdict warns of the stale lists the verdict rests on and, at debug
// level, records an allowed recipient. A refusal is logged once, by its
// reply, with the verdict as its cause.
func (s *session) logVerdict(ref, to string, v suppression.Verdict) {
	for _, w := range v.Warnings {
		s.log.Warn("stale list used", "ref", ref, "warning", w)
	}
	if v.Outcome != suppression.Allowed || !s.log.Enabled(s.ctx, slog.LevelDebug) {
		return // the common case, on every recipient: build nothing
	}
	s.log.Debug("recipient check", "ref", ref, "rcpt", logAddr(to), "rep", s.user.Email, "verdict", verdictCause{v})
}
