package auth

import (
	"context"
	"sync"
	"time"
)

// Logins records successful logins (store.Users' RecordLogin).
type Logins interface {
	RecordLogin(ctx context.Context, email string, at time.Time) error
}

// DefaultLoginEvery is how often, at most, one Authenticator writes a
// user's last login: a mail client logging in for every message costs
// one store write a minute, not one a message.
const DefaultLoginEvery = time.Minute

// recordTimeout bounds one last-login write.
const recordTimeout = 5 * time.Second

// lastLogins writes the last login of users in the background, once per
// user and interval: the reply to a login never waits for the store, and
// a write that fails is logged, never the login's failure.
type lastLogins struct {
	to    Logins
	every time.Duration
	now   func() time.Time
	fail  func(name string, err error)

	mu      sync.Mutex
	written map[string]time.Time // user → the login time last sent to the store
	wg      sync.WaitGroup
}

func newLastLogins(o Options) *lastLogins {
	if o.Logins == nil {
		return nil
	}
	every, fail := o.LoginEvery, o.LoginNotRecorded
	if every <= 0 {
		every = DefaultLoginEvery
	}
	if fail == nil {
		fail = func(string, error) {}
	}
	return &lastLogins{to: o.Logins, every: every, now: o.Now, fail: fail, written: map[string]time.Time{}}
}

// seen notes a successful login of name, writing it unless one was
// written less than every ago.
func (l *lastLogins) seen(name string) {
	if l == nil {
		return
	}
	now := l.now()
	l.mu.Lock()
	if t, ok := l.written[name]; ok && now.Sub(t) < l.every && !now.Before(t) {
		l.mu.Unlock()
		return
	}
	if len(l.written) >= maxRemembered {
		clear(l.written)
	}
	l.written[name] = now
	l.wg.Add(1)
	l.mu.Unlock()
	go l.write(name, now)
}

func (l *lastLogins) write(name string, at time.Time) {
	defer l.wg.Done()
	ctx, cancel := context.WithTimeout(context.Background(), recordTimeout)
	defer cancel()
	if err := l.to.RecordLogin(ctx, name, at); err != nil {
		l.fail(name, err)
		l.mu.Lock()
		if l.written[name].Equal(at) {
			delete(l.written, name) // the next login tries again
		}
		l.mu.Unlock()
	}
}

// wait returns once the writes under way are done.
func (l *lastLogins) wait() {
	if l != nil {
		l.wg.Wait()
	}
}
