package unsubscribe

import (
	"context"
	"log/slog"

	"github.com/dncgate/dncgate/ledger"
	"github.com/dncgate/dncgate/lists"
)

// Audit is told of every opt-out once it is recorded, with where it came
// from, for the audit trail.
type Audit interface {
	OptedOut(ctx context.Context, addr string, source ledger.Source) error
}

// sourceOf is the audit trail's name of how a recipient opted out.
func sourceOf(via string) ledger.Source {
	switch via {
	case viaOneClick:
		return ledger.SourceOneClick
	case viaMailto:
		return ledger.SourceMailto
	}
	return ledger.SourceLink // the confirmation form behind the link
}

// audit tells a of the opt-out; a failure is logged: the opt-out stands,
// and the recipient is not asked to try again for it.
func audit(ctx context.Context, a Audit, log *slog.Logger, rcpt, via string) {
	if a == nil {
		return
	}
	if err := a.OptedOut(ctx, rcpt, sourceOf(via)); err != nil {
		log.Error("unsubscribe: the opt-out is recorded but not its audit event", "rcpt", lists.MaskEmail(rcpt), "via", via, "err", err)
	}
}
