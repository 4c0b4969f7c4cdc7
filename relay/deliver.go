package relay

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/dncgate/dncgate/lists"
	"github.com/dncgate/dncgate/relay/upstream"
	"github.com/dncgate/dncgate/smtpreply"
	"github.com/emersion/go-smtp"
)

const (
	maxUpstreamText = 200 // bytes of an upstream reply quoted to the client
	maxNamedRcpts   = 5   // refused recipients named in one reply
)

// deliver forwards the message and turns the per-recipient results into the
// one reply DATA allows (RFC 5321 §3.3: one reply for the whole message).
func (s *session) deliver(tx *transaction, body []byte) error {
	ctx, cancel := context.WithTimeout(s.ctx, s.opts.ForwardTimeout)
	defer cancel()
	own, inReplyTo := msgIDs(body)
	// Decided before forwarding: the answer must not depend on this
	// message's own id, recorded below.
	exempt := s.isExemptReply(ctx, inReplyTo)
	env := upstream.Envelope{From: tx.from, MailOpts: forwardOpts(tx.opts, len(body)), Rcpts: tx.rcpts, Ref: tx.ref}
	added, err := s.stamp(tx, body, &env)
	if err != nil {
		return s.failTx(err)
	}
	env.Transform = withTrace(env.Transform, s.traceFields(tx, body, s.srv.opts.Now()))
	s.returnPaths(tx, &env)
	if ids := angleIDs(added, 1); len(ids) == 1 {
		own = ids[0] // what the recipients' replies will name
	}
	// The records before the copies: their write starts now and runs
	// while the copies' envelopes and bodies go to the upstream, and each
	// copy waits for it before its final dot. A crash leaves records whose
	// outcome reads "unknown", never a copy without a record.
	if tx.record == nil {
		tx.record = s.startRecord(tx, body)
	}
	rec := tx.record
	tx.forwarded = true
	// The store writes that follow the upstream's answers (markers, the
	// Message-ID, the caps' commit) are held and sent together below.
	hctx, flush := s.holdWrites(ctx)
	results := s.srv.fwd.Forward(upstream.WithGate(hctx, rec.wait), env, body) // it logs each recipient's outcome
	if err := rec.result(); err != nil {
		s.flushWrites(hctx, tx.ref, flush)  // ends the hold: no copy passed its gate, none was marked
		return s.failTx(ledgerRefusal(err)) // every copy stopped at its gate
	}
	v := summarize(tx.rcpts, results)
	s.rememberSent(hctx, tx.ref, own, v)
	if exempt {
		s.log.Info("reply to the recipient's own mail; caps not counted", "ref", tx.ref)
		s.releaseCaps(hctx, tx)
	}
	s.settleCaps(hctx, tx, v)
	s.flushWrites(hctx, tx.ref, flush)
	s.recordOutcomes(tx, v)
	if v.delivered > 0 {
		s.clearStrikes()
	}
	if v.temp == nil {
		s.notifyDropped(tx, body, v.delivered)
	}
	if err := v.err(); err != nil {
		return s.failTx(err)
	}
	s.endTx("delivered", nil)
	return smtpreply.Success(smtpreply.OK, v.deliveredText(), tx.ref)
}

// holdWrites makes the store writes of a delivery wait for flushWrites:
// the recipients' delivered marks, the sent Message-ID and the caps'
// commit, sent together once the upstream has answered for everyone.
func (s *session) holdWrites(ctx context.Context) (context.Context, func(context.Context) error) {
	if s.opts.Writes == nil {
		return ctx, func(context.Context) error { return nil }
	}
	return s.opts.Writes.HoldWrites(ctx)
}

// flushWrites sends the held writes, even when the client has left: the
// marks are what keeps a retry from sending again.
func (s *session) flushWrites(ctx context.Context, ref string, flush func(context.Context) error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), capStoreTimeout)
	defer cancel()
	if err := flush(ctx); err != nil {
		s.log.Error("delivered but not all recorded: a client retry could send again, a cap may not count it",
			"ref", ref, "err", lists.MaskEmails(err.Error()))
	}
}

// deliveredText says who got the message, and who had it already: a
// client's retry of a message an earlier attempt delivered sends nothing
// again, and the reply must not claim it did.
func (v verdict) deliveredText() string {
	sent := v.delivered - v.already
	switch {
	case v.already == 0:
		return fmt.Sprintf("Delivered to %d recipient(s)", sent)
	case sent == 0:
		return fmt.Sprintf("Already delivered to %d recipient(s) by an earlier attempt, not sent again", v.already)
	}
	return fmt.Sprintf("Delivered to %d recipient(s); already delivered to %d by an earlier attempt, not sent again", sent, v.already)
}

// stamp prepares the message once and makes each recipient's copy carry
// its own footer and unsubscribe headers. It returns the Message-ID the
// copies got when the message had none.
func (s *session) stamp(tx *transaction, body []byte, env *upstream.Envelope) (string, error) {
	st := s.opts.Stamper
	if st == nil {
		return "", nil
	}
	p, err := st.Prepare(body, s.user.Email)
	if err != nil {
		return "", prepareRefusal(err)
	}
	env.Transform = func(rcpt string, _ []byte) ([]byte, error) {
		return p.For(rcpt, tx.country[rcpt], tx.language[rcpt])
	}
	return p.MessageID(), nil
}

// returnPaths gives each copy its own return path when configured; the
// From: field stays the rep's.
func (s *session) returnPaths(tx *transaction, env *upstream.Envelope) {
	rp := s.opts.ReturnPaths
	if rp == nil {
		return
	}
	rep, ref, now := s.user.Email, tx.ref, s.srv.opts.Now()
	env.ReturnPath = func(rcpt string) string { return rp.For(rep, rcpt, ref, now) }
}

// prepareRefusal answers a message the Stamper would not prepare: as it
// says when it says why (signed mail it may not alter), else 451.
func prepareRefusal(err error) error {
	var e *smtpreply.Error
	if errors.As(err, &e) {
		return e
	}
	return smtpreply.New(smtpreply.Local, smtpreply.Footer, "Message could not be prepared, try again later", err)
}

// forwardOpts passes BODY, SMTPUTF8 and the DSN parameters (RFC 3461 §4)
// through. SIZE becomes the real size; the client's AUTH= is not passed, the
// upstream trusts us, not the rep's claim.
func forwardOpts(o smtp.MailOptions, size int) smtp.MailOptions {
	return smtp.MailOptions{Body: o.Body, Size: int64(size), UTF8: o.UTF8, Return: o.Return, EnvelopeID: o.EnvelopeID}
}

// rcptOutcome is one recipient's result, normalised.
type rcptOutcome struct {
	addr    string
	already bool
	err     *smtpreply.Error // nil when delivered
}

// verdict sums up a Forward call.
type verdict struct {
	outcomes  []rcptOutcome
	delivered int // already included
	already   int
	temp      *rcptOutcome // first temporary failure
	refused   []rcptOutcome
}

// summarize pairs results with recipients. A missing result, or an error
// that is not an *smtpreply.Error, counts as a temporary failure: the client
// keeps the message and retries, and the forwarder skips those already
// served, so nothing is lost and nothing doubles.
func summarize(rcpts []upstream.Rcpt, results []upstream.Result) verdict {
	var v verdict
	for i, r := range rcpts {
		o := rcptOutcome{addr: r.Addr}
		switch {
		case i >= len(results):
			o.err = smtpreply.New(smtpreply.NetworkTemp, smtpreply.UpstreamTemporary, "no result from forwarder", nil)
		case results[i].Err != nil:
			o.err = asUpstream(results[i].Err)
		default:
			o.already = results[i].Already
		}
		v.add(o)
	}
	return v
}

func (v *verdict) add(o rcptOutcome) {
	v.outcomes = append(v.outcomes, o)
	switch {
	case o.err == nil:
		v.delivered++
		if o.already {
			v.already++
		}
	case o.err.Temporary():
		if v.temp == nil {
			v.temp = &o
		}
	default:
		v.refused = append(v.refused, o)
	}
}

func asUpstream(err error) *smtpreply.Error {
	var ue *smtpreply.Error
	if errors.As(err, &ue) {
		return ue
	}
	return smtpreply.New(smtpreply.NetworkTemp, smtpreply.UpstreamTemporary, "upstream failure", err)
}

// err is the DATA reply for anything short of full delivery:
//
//   - any temporary failure wins: 451 with the upstream's text, so that the
//     client retries the whole message; the forwarder remembers who already
//     has it, and "delivered to K of N" tells the rep it is in hand;
//   - otherwise, permanent refusals give the first refusal's code and
//     enhanced code, with a text naming the refused recipients and
//     "delivered to K of N". A 5xx makes the client report failure for the
//     whole message, which is the only way SMTP after DATA can tell a rep
//     that some recipients did not get it; the text says who did.
func (v verdict) err() error {
	n := len(v.outcomes)
	switch {
	case v.temp != nil:
		e := v.temp.err
		text := fmt.Sprintf("Upstream: %s; delivered to %d of %d, retry later", upstreamText(e), v.delivered, n)
		return smtpreply.New(tempStatus(e), smtpreply.UpstreamTemporary, text, e)
	case len(v.refused) > 0:
		e := v.refused[0].err
		text := fmt.Sprintf("Refused by upstream for %s: %s; delivered to %d of %d",
			nameRcpts(v.refused), upstreamText(e), v.delivered, n)
		return smtpreply.New(permStatus(e), smtpreply.UpstreamPermanent, text, e)
	}
	return nil
}

func upstreamText(e *smtpreply.Error) string {
	if t := smtpreply.ClientText(e.Text, maxUpstreamText); t != "" {
		return t
	}
	if e.Temporary() {
		return "temporary failure"
	}
	return "refused"
}

// tempStatus is always 451, keeping the upstream's enhanced code when it is
// a 4.x.x one.
func tempStatus(e *smtpreply.Error) smtpreply.Status {
	st := smtpreply.NetworkTemp
	if e.Enhanced[0] == 4 {
		st.Enhanced = e.Enhanced
	}
	return st
}

func permStatus(e *smtpreply.Error) smtpreply.Status {
	st := smtpreply.Failed
	if e.Code >= 500 && e.Code < 600 {
		st.Code = e.Code
	}
	if e.Enhanced[0] == 5 {
		st.Enhanced = e.Enhanced
	}
	return st
}

func nameRcpts(refused []rcptOutcome) string {
	names := make([]string, 0, maxNamedRcpts+1)
	for i, o := range refused {
		if i == maxNamedRcpts {
			names = append(names, fmt.Sprintf("and %d more", len(refused)-i))
			break
		}
		names = append(names, smtpreply.Path(o.addr))
	}
	return strings.Join(names, ", ")
}
