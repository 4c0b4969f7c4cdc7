package ledger

import (
	"context"
	"log/slog"
	"time"
)

// ExpireEvery is how often the gateway deletes expired records: hourly,
// so nothing outlives its retention by more than an hour.
const ExpireEvery = time.Hour

// RunExpiry calls l.Expire at once and then every interval until ctx ends,
// logging what each run deleted. now is the clock.
func RunExpiry(ctx context.Context, l Ledger, every time.Duration, now func() time.Time, log *slog.Logger) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		ex, err := l.Expire(ctx, now())
		switch {
		case err != nil && ctx.Err() == nil:
			log.Error("ledger: expiring records failed", "err", err)
		case err == nil:
			log.Info("ledger: expired records", "sent", ex.Sent, "refused", ex.Refused,
				"audit", ex.Audit, "partitions_dropped", ex.Partitions)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
