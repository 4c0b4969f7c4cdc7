package export

import (
	"context"

	"github.com/dncgate/dncgate/ledger"
)

// Querier is what Stream needs of a ledger.
type Querier interface {
	Query(ctx context.Context, q ledger.Query) (ledger.Page, error)
}

// Writer is an output format: CSV, JSON or a table.
type Writer interface {
	Write([]ledger.Decision) error
	Flush() error
}

// Stream writes every decision q selects, page after page, to w and
// returns how many. The next page is read while the last one is written,
// so a large export keeps both the database and the encoder busy.
func Stream(ctx context.Context, l Querier, q ledger.Query, w Writer) (int, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type result struct {
		ds  []ledger.Decision
		err error
	}
	pages := make(chan result, 1)
	go func() {
		defer close(pages)
		for {
			p, err := l.Query(ctx, q)
			select {
			case pages <- result{p.Decisions, err}:
			case <-ctx.Done():
				return
			}
			if err != nil || p.Next == "" {
				return
			}
			q.Cursor = p.Next
		}
	}()
	n := 0
	for r := range pages {
		if r.err != nil {
			return n, r.err
		}
		if err := w.Write(r.ds); err != nil {
			return n, err
		}
		n += len(r.ds)
	}
	return n, w.Flush()
}
