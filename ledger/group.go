package ledger

import (
	"time"

	"github.com/dncgate/dncgate/internal/groupcommit"
)

// ErrClosed is the error of a write to a ledger that was closed.
var ErrClosed = groupcommit.ErrClosed

// Batcher is a backend's group commit: the calls that arrive while a
// write is under way are written together in the next one (see package
// groupcommit).
type Batcher[T any] = groupcommit.Batcher[T]

// Settings are what a backend's Open takes beside the retention.
type Settings struct {
	// CommitDelay is how long a writer under load collects more calls
	// before it commits ([ledger] commit_delay; 0, the default here,
	// commits at once). The writer waits only when its previous batch
	// held more than one call, so a lone session's record is written at
	// once.
	CommitDelay time.Duration
}

// Option sets one of the Settings.
type Option func(*Settings)

// CommitDelay sets Settings.CommitDelay; 0 commits at once.
func CommitDelay(d time.Duration) Option { return func(s *Settings) { s.CommitDelay = d } }

// Configure returns the settings opts make of the defaults.
func Configure(opts []Option) Settings {
	var s Settings
	for _, o := range opts {
		o(&s)
	}
	return s
}

// StartBatcher starts a group commit whose writer waits up to delay
// under load (see Settings.CommitDelay); write gets at most
// groupcommit.DefaultMax items and returns one error per item.
func StartBatcher[T any](write func([]T) []error, delay time.Duration) *Batcher[T] {
	return groupcommit.Start(write, groupcommit.Options{Wait: delay})
}

// GroupCommit batches Record calls; a batch is one transaction, so its
// calls share one outcome.
type GroupCommit = Batcher[[]Decision]

func StartGroupCommit(write func([][]Decision) error, delay time.Duration) *GroupCommit {
	return StartBatcher(func(dss [][]Decision) []error {
		err := write(dss)
		errs := make([]error, len(dss))
		for i := range errs {
			errs[i] = err
		}
		return errs
	}, delay)
}
