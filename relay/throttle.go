package relay

import (
	"context"
	"log/slog"
	"net/netip"
	"time"

	"github.com/dncgate/dncgate/smtpreply"
)

// throttle slows and then refuses AUTH after repeated failures. The counts
// live in the shared Counters so that every gateway instance behind a load
// balancer sees the same totals.
type throttle struct {
	cfg      Throttle
	counters Counters
	log      *slog.Logger
}

// authKeys are the counters an attempt touches: the client address and, when
// it is a plausible login, the user name. An IPv6 client is counted by its
// /64, the block one host usually holds.
type authKeys struct {
	ip   string
	user string // empty when the name is too long to be a user
}

func newAuthKeys(peer netip.Addr, user string) authKeys {
	k := authKeys{ip: "auth:ip:" + clientBlock(peer).String()}
	if user != "" && len(user) <= maxPathLen {
		k.user = "auth:user:" + user
	}
	return k
}

func clientBlock(peer netip.Addr) netip.Prefix {
	if peer.Is4() {
		return netip.PrefixFrom(peer, 32)
	}
	p, _ := peer.Prefix(64)
	return p
}

func (k authKeys) all() []string {
	if k.user == "" {
		return []string{k.ip}
	}
	return []string{k.ip, k.user}
}

// before runs ahead of the password check. It refuses once BlockAfter
// failures are counted, and past SlowAfter it delays the reply whatever the
// outcome will be, so that a fast answer never tells a guesser that the
// password was right. A store that cannot count fails closed (454).
func (t *throttle) before(ctx context.Context, k authKeys) error {
	n, err := t.failures(ctx, k)
	if err != nil {
		return smtpreply.New(smtpreply.AuthTemp, smtpreply.AuthThrottled, "Temporary authentication failure", err)
	}
	if n >= int64(t.cfg.BlockAfter) {
		return smtpreply.New(smtpreply.AuthTemp, smtpreply.AuthThrottled, "Too many authentication failures, try later", nil)
	}
	if d := t.delay(n); d > 0 {
		if err := t.cfg.Wait(ctx, d); err != nil {
			return smtpreply.New(smtpreply.AuthTemp, smtpreply.AuthThrottled, "Temporary authentication failure", err)
		}
	}
	return nil
}

// failures is the larger of the address's and the user's counts.
func (t *throttle) failures(ctx context.Context, k authKeys) (int64, error) {
	var most int64
	for _, key := range k.all() {
		n, err := t.counters.Count(ctx, key)
		if err != nil {
			return 0, err
		}
		most = max(most, n)
	}
	return most, nil
}

// delay for an attempt after n counted failures: nothing up to SlowAfter,
// then one second doubling with each further failure, capped at MaxDelay.
func (t *throttle) delay(n int64) time.Duration {
	if n < int64(t.cfg.SlowAfter) {
		return 0
	}
	d := min(time.Second, t.cfg.MaxDelay)
	for i := int64(t.cfg.SlowAfter); i < n && d < t.cfg.MaxDelay; i++ {
		d *= 2
	}
	return min(d, t.cfg.MaxDelay)
}

// failed counts a failure; a counting error is logged, the reply stays 535.
func (t *throttle) failed(ctx context.Context, k authKeys) {
	for _, key := range k.all() {
		if _, err := t.counters.Hit(ctx, key, t.cfg.Window); err != nil {
			t.log.Warn("auth throttle: cannot count failure", "key", key, "err", err)
		}
	}
}

// succeeded forgets the user's failures. The address's count stays: one
// right password from an address does not excuse its guesses at others.
func (t *throttle) succeeded(ctx context.Context, k authKeys) {
	if k.user == "" {
		return
	}
	if err := t.counters.ResetCount(ctx, k.user); err != nil {
		t.log.Warn("auth throttle: cannot reset count", "key", k.user, "err", err)
	}
}
