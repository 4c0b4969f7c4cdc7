package relay

import (
	"context"
	"log/slog"
	"sync/atomic"

	"github.com/emersion/go-smtp"

	"github.com/dncgate/dncgate/smtpreply"
)

// errorLogLines is how many lines a connection's errors may write to the
// log; later ones are counted and summed up in one line when it ends.
const errorLogLines = 20

// strikes are a connection's errors: every reply of 400 or more counts,
// except for a recipient the check or a cap refuses (the gateway's
// decision, not the client's mistake), and a delivered message wipes
// the slate. Past Options.MaxErrors the connection is answered 421 and
// closed, as Postfix's smtpd_hard_error_limit does, so that a client
// cannot have thousands of refusals (and log lines) made for it.
type strikes struct {
	errors  atomic.Int64
	logged  atomic.Int64 // error log lines written
	dropped atomic.Int64 // error log lines left out
}

// reply makes err the client's reply, logged to log within the
// connection's budget of error lines, and counts it as an error.
func (s *session) reply(err error, ref string, log *slog.Logger) *smtp.SMTPError {
	return s.strike(toSMTP(err, ref, s.budget(log)))
}

// budget is log, writing only while the connection's error lines last.
func (s *session) budget(log *slog.Logger) *slog.Logger {
	return slog.New(budgetHandler{log.Handler(), s.strikes})
}

// strike counts reply as an error. Past the limit it is replaced by a 421,
// after which the connection is closed.
func (s *session) strike(reply *smtp.SMTPError) *smtp.SMTPError {
	n := s.strikes.errors.Add(1)
	if max := int64(s.srv.opts.MaxErrors); max <= 0 || n <= max {
		return reply
	}
	s.log.Warn("too many errors; closing the connection", "errors", n)
	s.conn.hangUpAfterReply()
	return smtpreply.Reply(smtpreply.New(smtpreply.TooManyErrors, smtpreply.ErrorLimit, "Too many errors, closing connection", nil), "")
}

// clearStrikes forgets the errors before a message that was delivered.
func (s *session) clearStrikes() { s.strikes.errors.Store(0) }

// logSuppressed sums up the error lines left out of the log.
func (s *session) logSuppressed() {
	if n := s.strikes.dropped.Swap(0); n > 0 {
		s.log.Warn("error log lines suppressed", "suppressed", n, "logged", errorLogLines)
	}
}

// budgetHandler writes records while the connection's budget of error
// lines lasts, and counts the rest.
type budgetHandler struct {
	slog.Handler
	st *strikes
}

func (h budgetHandler) Handle(ctx context.Context, r slog.Record) error {
	if h.st.logged.Add(1) > errorLogLines {
		h.st.dropped.Add(1)
		return nil
	}
	return h.Handler.Handle(ctx, r)
}

func (h budgetHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return budgetHandler{h.Handler.WithAttrs(as), h.st}
}

func (h budgetHandler) WithGroup(name string) slog.Handler {
	return budgetHandler{h.Handler.WithGroup(name), h.st}
}
