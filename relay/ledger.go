package relay

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"mime"
	"net/mail"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/dncgate/dncgate/ledger"
	"github.com/dncgate/dncgate/lists"
	"github.com/dncgate/dncgate/smtpreply"
	"github.com/dncgate/dncgate/suppression"
	"github.com/emersion/go-smtp"
)

// Recorder is the send ledger as the relay writes it (package ledger's
// Spooled is one): every recipient decision, allowed or refused, made
// durable before the reply or the copy that depends on it, and the
// outcome of each send after the upstream answered.
type Recorder interface {
	// Record returns once ds are durable (or spooled); an error means
	// they are not, and nothing may be sent on them.
	Record(ctx context.Context, ds []ledger.Decision) error
	// SetOutcome writes what became of the recipient rcpt of ref.
	SetOutcome(ctx context.Context, ref string, rcpt ledger.Digest, o ledger.Outcome) error
}

// ledgerTimeout bounds one ledger write. Beyond it the recipient or the
// message gets a 451 and the client retries.
const ledgerTimeout = 10 * time.Second

// ledgerRefusal answers for a decision the ledger could not take: 451
// 4.3.0, nothing sent without its record.
func ledgerRefusal(err error) *smtpreply.Error {
	return smtpreply.New(smtpreply.Local, smtpreply.LedgerError, "Send ledger unavailable, try again later", err)
}

// decision is the ledger's record of one recipient: v is the check's
// verdict (zero when no check ran or it failed), refusal what the client
// is answered for a recipient that may not be written to (nil when
// allowed). It never holds the full address.
func (s *session) decision(tx *transaction, to string, v suppression.Verdict, refusal *smtpreply.Error) ledger.Decision {
	d := ledger.Decision{
		At: s.opts.Now(), Ref: tx.ref, Rep: s.userName(), Sender: tx.from,
		RcptMasked: lists.MaskEmail(to), RcptDigest: s.srv.rcptKeys.Digest(to),
		Domain: rcptDomain(to), Country: v.Country.String(), CountryFrom: v.CountryFrom, RcptType: string(v.Type),
		Rule:    ruleName(v.Rule),
		Verdict: ledger.Allowed, Reason: ledger.Reason(suppression.CodeAllowed),
		Match:    ledger.Match{List: v.List, Version: v.Version, KeyKind: v.KeyKind},
		Listener: s.lst.cfg.Name, Client: s.peer.String(),
	}
	for _, c := range v.Consulted {
		d.Lists = append(d.Lists, ledger.ListVersion{List: c.List, Version: c.Version})
	}
	if refusal == nil {
		return d
	}
	d.Verdict = ledger.Refused
	if refusal.Temporary() {
		d.Verdict = ledger.TempFail
	}
	d.Reason = ledger.Reason(refusal.Reason)
	if v.Code != "" && v.Outcome != suppression.Allowed {
		d.Reason = ledger.Reason(v.Code) // the list's name with it: "list:be-dncm"
	}
	var cc capCause
	if errors.As(refusal, &cc) {
		d.Cap = "cap " + string(cc) + " reached"
	}
	return d
}

// rcptDomain is the recipient's domain, lower-cased.
func rcptDomain(to string) string {
	if at := strings.LastIndexByte(to, '@'); at >= 0 {
		return strings.ToLower(to[at+1:])
	}
	return ""
}

// ruleName names a policy rule: "FR consent", "* allow"; "" for none.
func ruleName(r suppression.Rule) string {
	if r.Country == "" && r.Action == "" {
		return ""
	}
	return r.Country + " " + string(r.Action)
}

// recordRefusal writes the decision of a recipient refused at RCPT, or
// left out, with its outcome, before the client hears of it.
func (s *session) recordRefusal(tx *transaction, to string, v suppression.Verdict, e *smtpreply.Error, leftOut bool) error {
	rec := s.opts.Ledger
	if rec == nil {
		return nil
	}
	d := s.decision(tx, to, v, e)
	d.Outcome = ledger.Outcome{Kind: ledger.RefusedAtRcpt, Reply: replyLine(e), At: d.At}
	switch {
	case leftOut:
		d.Outcome.Kind = ledger.LeftOut
	case e.Temporary():
		d.Outcome.Kind = ledger.TempFailed
	}
	ctx, cancel := context.WithTimeout(s.ctx, ledgerTimeout)
	defer cancel()
	if err := rec.Record(ctx, []ledger.Decision{d}); err != nil {
		return ledgerRefusal(err)
	}
	return nil
}

// pendingRecord is the write of a message's allowed records, under way.
type pendingRecord struct {
	done chan struct{}
	err  error // once done is closed
}

// wait is the copies' gate: it returns once the records are durable, or
// the error that kept them from being written.
func (p *pendingRecord) wait(ctx context.Context) error {
	select {
	case <-p.done:
		return p.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// result waits for the write to end.
func (p *pendingRecord) result() error {
	<-p.done
	return p.err
}

// startRecord starts making the allowed recipients' decisions durable,
// in the background, so that the ledger's commit (an fsync, shared with
// the sessions deciding at once) overlaps the message's way to the
// upstream rather than coming before it.
func (s *session) startRecord(tx *transaction, body []byte) *pendingRecord {
	p := &pendingRecord{done: make(chan struct{})}
	rec := s.opts.Ledger
	if rec == nil || len(tx.decisions) == 0 {
		close(p.done)
		return p
	}
	if s.opts.LedgerSubject {
		subj := subjectOf(body)
		for i := range tx.decisions {
			tx.decisions[i].Subject = subj
		}
	}
	go func() {
		defer close(p.done)
		ctx, cancel := context.WithTimeout(s.ctx, ledgerTimeout)
		defer cancel()
		p.err = rec.Record(ctx, tx.decisions)
	}()
	return p
}

// recordOutcomes writes what the upstream answered for each allowed
// recipient, in the background: the client's reply does not wait for it.
// A failure is logged: the record stays, its outcome "unknown", and the
// message has left, as after a crash between the send and the outcome.
func (s *session) recordOutcomes(tx *transaction, v verdict) {
	rec := s.opts.Ledger
	if rec == nil || len(tx.decisions) == 0 {
		return
	}
	ref, ds, now, log := tx.ref, tx.decisions, s.opts.Now(), s.log
	s.srv.outcomes.run(func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(s.ctx), ledgerTimeout)
		defer cancel()
		for i, d := range ds {
			if i >= len(v.outcomes) {
				break
			}
			if err := rec.SetOutcome(ctx, ref, d.RcptDigest, outcomeOf(v.outcomes[i], now)); err != nil {
				log.Error("ledger: outcome not recorded", "ref", ref, "rcpt", d.RcptMasked, "err", err.Error())
			}
		}
	})
}

// recordNotSent gives the records of a message refused at DATA before
// any copy left (too big, a From: the rep may not use, a message that
// could not be prepared) the reply the client got, once they are
// written, in the background. Records that could not be written need
// nothing.
func (s *session) recordNotSent(tx *transaction, reply error) {
	rec, p := s.opts.Ledger, tx.record
	if rec == nil || len(tx.decisions) == 0 {
		return
	}
	o := notSent(reply, s.opts.Now())
	ref, ds, log := tx.ref, tx.decisions, s.log
	s.srv.outcomes.run(func() {
		if p.result() != nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.WithoutCancel(s.ctx), ledgerTimeout)
		defer cancel()
		for _, d := range ds {
			if err := rec.SetOutcome(ctx, ref, d.RcptDigest, o); err != nil {
				log.Error("ledger: outcome not recorded", "ref", ref, "rcpt", d.RcptMasked, "err", err.Error())
			}
		}
	})
}

// notSent is the outcome of a message the gateway refused at DATA: its
// reply, as the client got it, its addresses masked.
func notSent(reply error, now time.Time) ledger.Outcome {
	o := ledger.Outcome{Kind: ledger.TempFailed, Reply: "451 4.3.0 not sent", At: now}
	var se *smtp.SMTPError
	if !errors.As(reply, &se) {
		return o
	}
	if se.Code >= 500 {
		o.Kind = ledger.RefusedAtRcpt
	}
	text := addrInText.ReplaceAllStringFunc(se.Message, lists.MaskEmail)
	o.Reply = fmt.Sprintf("%d %d.%d.%d %s", se.Code, se.EnhancedCode[0], se.EnhancedCode[1], se.EnhancedCode[2], text)
	return o
}

// background runs the outcome writes, a bounded number at once (beyond
// it a session waits for a slot), and lets Shutdown wait for them.
type background struct {
	slots chan struct{}
	wg    sync.WaitGroup
}

// maxOutcomeWrites bounds the outcome writes under way.
const maxOutcomeWrites = 1024

func newBackground(n int) *background { return &background{slots: make(chan struct{}, n)} }

func (b *background) run(f func()) {
	b.slots <- struct{}{}
	b.wg.Go(func() {
		defer func() { <-b.slots }()
		f()
	})
}

// wait returns once every write started has ended. No run may start
// meanwhile (Shutdown calls it once the sessions have drained).
func (b *background) wait() { b.wg.Wait() }

// outcomeOf is the ledger's outcome of one forwarded recipient.
func outcomeOf(o rcptOutcome, now time.Time) ledger.Outcome {
	switch {
	case o.err == nil && o.already:
		return ledger.Outcome{Kind: ledger.Sent, Reply: "already delivered by an earlier attempt", At: now}
	case o.err == nil:
		return ledger.Outcome{Kind: ledger.Sent, Reply: "accepted", At: now}
	case o.err.Temporary():
		return ledger.Outcome{Kind: ledger.TempFailed, Reply: replyLine(o.err), At: now}
	}
	return ledger.Outcome{Kind: ledger.UpstreamRefused, Reply: replyLine(o.err), At: now}
}

// replyLine is a reply as the ledger keeps it: code, enhanced code and
// text, every address in it masked (a recipient's reply names it, and an
// upstream's may).
func replyLine(e *smtpreply.Error) string {
	text := addrInText.ReplaceAllStringFunc(e.Text, lists.MaskEmail)
	return fmt.Sprintf("%d %d.%d.%d %s", e.Code, e.Enhanced[0], e.Enhanced[1], e.Enhanced[2], text)
}

// addrInText finds what may be an address in a reply's text.
var addrInText = regexp.MustCompile(`[^\s<>"]+@[^\s<>"]+`)

// maxSubject bounds the Subject a record keeps.
const maxSubject = 200

// subjectOf is the message's Subject, decoded, on one line, its addresses
// masked; "" when it has none or the header cannot be read.
func subjectOf(body []byte) string {
	msg, err := mail.ReadMessage(bytes.NewReader(body))
	if err != nil {
		return ""
	}
	raw := msg.Header.Get("Subject")
	subj, err := new(mime.WordDecoder).DecodeHeader(raw)
	if err != nil {
		subj = raw
	}
	subj = strings.Join(strings.Fields(subj), " ")
	subj = addrInText.ReplaceAllStringFunc(subj, lists.MaskEmail)
	if r := []rune(subj); len(r) > maxSubject {
		subj = string(r[:maxSubject])
	}
	return subj
}
