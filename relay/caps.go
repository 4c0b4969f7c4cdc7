package relay

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/dncgate/dncgate/caps"
	"github.com/dncgate/dncgate/country"
	"github.com/dncgate/dncgate/lists"
	"github.com/dncgate/dncgate/smtpreply"
	"github.com/dncgate/dncgate/suppression"
)

// capStoreTimeout bounds one cap store call. Reserve runs while the client
// waits for its RCPT reply; a commit or release that runs out is harmless,
// the reservation expires on its own after the cap's hold.
const capStoreTimeout = 5 * time.Second

// Capper reserves frequency-cap slots for recipients; CheckerCapper makes
// one of a *caps.Checker. A nil ticket with a nil refusal and error means
// no cap applied.
type Capper interface {
	Reserve(ctx context.Context, rep, rcpt string, cc country.Code, msgID string, now time.Time) (CapTicket, *caps.Refusal, error)
}

// CapTicket is one recipient's reservations: committed once the upstream
// accepted the message for the recipient, released otherwise.
type CapTicket interface {
	Commit(ctx context.Context, now time.Time) error
	Release(ctx context.Context) error
}

// CheckerCapper adapts c to Capper; nil gives nil (no caps).
func CheckerCapper(c *caps.Checker) Capper {
	if c == nil {
		return nil
	}
	return checkerCapper{c}
}

type checkerCapper struct{ c *caps.Checker }

// capSettler is a Capper that ends the tickets of a message together (see
// caps.Checker.Settle): the commits of every recipient in one store call,
// rather than one each.
type capSettler interface {
	Settle(ctx context.Context, commit, release []CapTicket, now time.Time) error
}

func (a checkerCapper) Settle(ctx context.Context, commit, release []CapTicket, now time.Time) error {
	return a.c.Settle(ctx, checkerTickets(commit), checkerTickets(release), now)
}

// checkerTickets unwraps the tickets checkerCapper.Reserve handed out.
func checkerTickets(ts []CapTicket) []*caps.Ticket {
	out := make([]*caps.Ticket, 0, len(ts))
	for _, t := range ts {
		if ct, ok := t.(*caps.Ticket); ok {
			out = append(out, ct)
		}
	}
	return out
}

func (a checkerCapper) Reserve(ctx context.Context, rep, rcpt string, cc country.Code, msgID string, now time.Time) (CapTicket, *caps.Refusal, error) {
	t, r, err := a.c.Reserve(ctx, rep, rcpt, cc, msgID, now)
	if t == nil { // no typed nil inside the interface
		return nil, r, err
	}
	return t, r, err
}

// capCause names the full cap in the refusal's log line.
type capCause string

func (c capCause) Error() string { return "cap " + string(c) + " reached" }

// reserveCaps takes the recipient's cap slots; caps limited to countries
// apply when the recipient check found the recipient's country. A store
// failure refuses the recipient for now: the gateway never sends unchecked.
func (s *session) reserveCaps(tx *transaction, to string, cc country.Code) (CapTicket, error) {
	capper := s.opts.Caps
	if capper == nil {
		return nil, nil
	}
	ctx, cancel := context.WithTimeout(s.ctx, capStoreTimeout)
	defer cancel()
	t, r, err := capper.Reserve(ctx, s.user.Email, to, cc, tx.ref, s.opts.Now())
	var ae *caps.AddressError
	switch {
	case errors.As(err, &ae):
		return nil, capAddressRefusal(ae, to)
	case err != nil:
		return nil, smtpreply.New(smtpreply.Local, smtpreply.StoreError, "Frequency caps unavailable, try again later", err)
	case r != nil:
		st := smtpreply.Denied
		if r.Temporary {
			st = smtpreply.PolicyTemp
		}
		return nil, smtpreply.New(st, smtpreply.Cap, smtpreply.Path(to)+": "+r.Text(), capCause(r.Cap))
	}
	return t, nil
}

// capAddressRefusal answers for an address no cap can count, having no
// normalised form (the recipient check refuses such a recipient first,
// when there is one). A recipient is refused as an address in error; a
// rep's account address is the administrator's to fix.
func capAddressRefusal(ae *caps.AddressError, to string) error {
	reason := ae.Err.Error()
	var ve *lists.ValueError
	if errors.As(ae.Err, &ve) {
		reason = ve.Reason
	}
	if ae.Role == "rep" {
		return smtpreply.New(smtpreply.Misconfigured, smtpreply.Cap, "Your account's address cannot be counted by the frequency caps; ask the administrator", ae)
	}
	return smtpreply.New(smtpreply.BadKey, smtpreply.Address, fmt.Sprintf("%s: cannot be counted by the frequency caps: %s [%s]",
		smtpreply.Path(to), smtpreply.ClientText(reason, maxReplyText), suppression.CodeAddress), ae)
}

// settleCaps commits the tickets of the recipients the upstream accepted
// and releases the others. A recipient the upstream already had (an
// earlier attempt) was counted by that attempt, so its ticket goes back.
func (s *session) settleCaps(ctx context.Context, tx *transaction, v verdict) {
	accepted := make([]bool, len(tx.tickets))
	for i := range tx.tickets {
		accepted[i] = i < len(v.outcomes) && v.outcomes[i].err == nil && !v.outcomes[i].already
	}
	s.endTickets(ctx, tx, accepted)
}

// releaseCaps gives back every ticket of a transaction that ends without
// forwarding (RSET, a refused DATA, the client leaving).
func (s *session) releaseCaps(ctx context.Context, tx *transaction) {
	s.endTickets(ctx, tx, make([]bool, len(tx.tickets)))
}

// endTickets commits the tickets marked in commit and releases the others:
// through a capSettler in one store call for the commits and one for the
// releases, otherwise ticket by ticket. ctx carries the held writes of a
// delivery, if any.
func (s *session) endTickets(ctx context.Context, tx *transaction, commit []bool) {
	tickets := tx.tickets
	tx.tickets = nil
	if st, ok := s.opts.Caps.(capSettler); ok {
		var yes, no []CapTicket
		for i, t := range tickets {
			switch {
			case t == nil:
			case commit[i]:
				yes = append(yes, t)
			default:
				no = append(no, t)
			}
		}
		if len(yes)+len(no) > 0 {
			s.capCall(ctx, tx.ref, "settle", func(ctx context.Context) error { return st.Settle(ctx, yes, no, s.opts.Now()) })
		}
		return
	}
	for i, t := range tickets {
		switch {
		case t == nil:
		case commit[i]:
			s.capCall(ctx, tx.ref, "commit", func(ctx context.Context) error { return t.Commit(ctx, s.opts.Now()) })
		default:
			s.capCall(ctx, tx.ref, "release", t.Release)
		}
	}
}

// capCall runs one commit or release with its own deadline: the context
// (the session's, or a delivery's holding its writes) may already be
// cancelled (the client left), and the outcome of the transaction must
// still be recorded. Failures are logged only; an unreleased hold expires
// by itself.
func (s *session) capCall(base context.Context, ref, op string, f func(context.Context) error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(base), capStoreTimeout)
	defer cancel()
	if err := f(ctx); err != nil {
		s.log.Warn("cap "+op+" failed", "ref", ref, "err", err.Error())
	}
}
