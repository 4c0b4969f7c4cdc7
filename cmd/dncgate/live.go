package main

import (
	"context"
	"io"
	"sync"
	"time"

	"github.com/dncgate/dncgate/caps"
	"github.com/dncgate/dncgate/config"
	"github.com/dncgate/dncgate/suppression"
)

// checks are what a configuration builds that the relay and the HTTP side
// share: the recipient check, the caps (nil without [[caps]]) and the
// [[lists]] declared.
type checks struct {
	recipients *suppression.Checker
	caps       *caps.Checker
	lists      []config.ListDecl
}

// liveCheck is the checks of the configuration in force, swapped by a
// reload: the check API decides with it, the console scrubs prospect
// files, resets caps on an erasure and reads the lists' max_removal
// through it.
type liveCheck struct {
	mu  sync.RWMutex
	cur checks
}

func newLiveCheck(c checks) *liveCheck { return &liveCheck{cur: c} }

func (l *liveCheck) set(c checks) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.cur = c
}

func (l *liveCheck) get() checks {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.cur
}

func (l *liveCheck) Decide(ctx context.Context, sender, rcpt string, now time.Time) (suppression.Verdict, error) {
	return l.get().recipients.Decide(ctx, sender, rcpt, now)
}

// Scrub checks a prospect file as the relay checks recipients now.
func (l *liveCheck) Scrub(ctx context.Context, src io.Reader, out io.Writer, o suppression.ScrubOptions) (suppression.ScrubCounts, error) {
	return l.get().recipients.Scrub(ctx, src, out, o)
}

// currentCaps are the caps in force, for an erasure; nil without [[caps]].
func (l *liveCheck) currentCaps() suppression.CapCounts {
	if c := l.get().caps; c != nil {
		return c
	}
	return nil
}

// maxRemoval is a list's [[lists]] max_removal in force, nil when not
// set (the import's default).
func (l *liveCheck) maxRemoval(list string) *float64 {
	if s := declaredMaxRemoval(l.get().lists, list); s.Set {
		return &s.Fraction
	}
	return nil
}
