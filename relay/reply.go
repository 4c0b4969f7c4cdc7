package relay

import (
	"context"
	"errors"
	"log/slog"

	"github.com/dncgate/dncgate/lists"
	"github.com/dncgate/dncgate/smtpreply"
	"github.com/emersion/go-smtp"
)

// toSMTP answers a refusal that ends no transaction: it is logged once,
// here, and smtpreply.Reply words the reply. Any error that is not an
// *smtpreply.Error becomes a 451, never the permanent reply go-smtp would
// make of it.
func toSMTP(err error, ref string, log *slog.Logger) *smtp.SMTPError {
	e := smtpreply.As(err)
	logRefusal(log, "refused", e, ref)
	return smtpreply.Reply(e, ref)
}

// logRefusal writes the one line of a refusal: warn for a temporary one,
// which an operator may have to act on.
func logRefusal(log *slog.Logger, msg string, e *smtpreply.Error, ref string, attrs ...any) {
	level := slog.LevelInfo
	if e.Temporary() {
		level = slog.LevelWarn
	}
	all := append([]any{"ref", ref}, attrs...)
	log.Log(context.Background(), level, msg, append(all, refusalAttrs(e)...)...)
}

// refusalAttrs are what the log records of a refusal: the reply the client
// got, the reason and the cause, with every address in them masked. A
// cause that can say more than its text (the verdict behind a recipient
// refusal) logs as a group of its own.
func refusalAttrs(e *smtpreply.Error) []any {
	attrs := []any{"reason", string(e.Reason), "code", e.Code, "reply", lists.MaskEmails(e.Text)}
	var lv slog.LogValuer
	switch {
	case errors.As(e.Cause, &lv):
		attrs = append(attrs, slog.Any("cause", lv))
	case e.Cause != nil:
		attrs = append(attrs, "cause", lists.MaskEmails(e.Cause.Error()))
	}
	return attrs
}
