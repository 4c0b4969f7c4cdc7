package auth

import (
	"errors"
	"fmt"
	"math"
	"net/netip"
	"time"

	"github.com/dncgate/dncgate/store"
)

// Limits say how many failed logins are allowed in a window, and where.
// Failures are counted per user name and client together, per client and
// per user name: a guesser at one account from one address is stopped at
// BlockAfter, one address guessing at many accounts at ClientBlockAfter,
// and many addresses guessing at one account at UserBlockAfter, a much
// higher count, so that anyone cannot lock a user out with a few wrong
// passwords. A count of 0 never blocks.
type Limits struct {
	Window           time.Duration // default 15 min
	SlowAfter        int           // a pair's failures after which replies are delayed; default 3
	BlockAfter       int           // a pair's failures after which logins are refused; default 10
	ClientBlockAfter int           // a client's failures, all names; default 3 × BlockAfter
	UserBlockAfter   int           // a name's failures, all clients; default 10 × BlockAfter
	MaxDelay         time.Duration // cap of the growing delay; default 5 s
}

const (
	defaultWindow     = 15 * time.Minute
	defaultSlowAfter  = 3
	defaultBlockAfter = 10
	defaultMaxDelay   = 5 * time.Second
)

// Never is a limit no client reaches: how the configuration's "0 never
// blocks" is given.
const Never = math.MaxInt32

func (l Limits) withDefaults() (Limits, error) {
	if l.Window == 0 {
		l.Window = defaultWindow
	}
	if l.SlowAfter == 0 {
		l.SlowAfter = defaultSlowAfter
	}
	if l.BlockAfter == 0 {
		l.BlockAfter = defaultBlockAfter
	}
	if l.ClientBlockAfter == 0 {
		l.ClientBlockAfter = min(Never, 3*l.BlockAfter)
	}
	if l.UserBlockAfter == 0 {
		l.UserBlockAfter = min(Never, 10*l.BlockAfter)
	}
	if l.MaxDelay == 0 {
		l.MaxDelay = defaultMaxDelay
	}
	// SlowAfter may exceed BlockAfter: "never slow down" is SlowAfter = Never.
	if l.Window < 0 || l.SlowAfter < 0 || l.BlockAfter < 1 || l.ClientBlockAfter < 1 || l.UserBlockAfter < 1 || l.MaxDelay < 0 {
		return l, errors.New("auth: limits need a positive window and counts")
	}
	return l, nil
}

// keys are the counters one attempt touches. A client is counted by its
// address, an IPv6 client by its /64, the block one host usually holds.
// A name too long to be a user's is counted by its client alone.
type keys struct {
	client string
	pair   string // "" without a plausible name
	user   string
}

// maxName bounds a user name (RFC 5321 §4.5.3.1.3: a 256-octet path, less
// the angle brackets).
const maxName = 254

func newKeys(client netip.Addr, name string) keys {
	block := clientBlock(client).String()
	k := keys{client: "auth:client:" + block}
	if name != "" && len(name) <= maxName {
		k.pair = "auth:pair:" + block + "|" + name
		k.user = "auth:user:" + name
	}
	return k
}

func clientBlock(ip netip.Addr) netip.Prefix {
	ip = ip.Unmap()
	if !ip.IsValid() {
		return netip.Prefix{}
	}
	if ip.Is4() {
		return netip.PrefixFrom(ip, 32)
	}
	p, _ := ip.Prefix(64)
	return p
}

// limits are the keys with their limits, in the order pair, client, user.
func (k keys) limits(l Limits) []store.AttemptKey {
	out := []store.AttemptKey{{Key: k.client, Limit: int64(l.ClientBlockAfter)}}
	if k.pair != "" {
		out = []store.AttemptKey{
			{Key: k.pair, Limit: int64(l.BlockAfter)},
			out[0],
			{Key: k.user, Limit: int64(l.UserBlockAfter)},
		}
	}
	return out
}

// lockedBy names the limit a refused attempt met, for the log; it names
// no user, whose address the log must not carry in full.
func (k keys) lockedBy(counts []int64, l Limits) error {
	ks := k.limits(l)
	what := []string{"of the user from this client", "from this client", "of the user from any client"}
	if len(ks) == 1 {
		what = what[1:2]
	}
	for i, c := range counts {
		if i < len(ks) && c >= ks[i].Limit {
			return fmt.Errorf("%d failures %s in the window", c, what[i])
		}
	}
	return errors.New("too many failures")
}

// succeeded is what a right password gives back: the pair's failures are
// forgotten; the client's and the name's keep their failures (one right
// password does not excuse guesses at other accounts, or from elsewhere)
// and lose only this attempt.
func (k keys) succeeded() (reset, release []string) {
	if k.pair == "" {
		return nil, []string{k.client}
	}
	return []string{k.pair}, []string{k.client, k.user}
}

// notChecked gives the whole attempt back.
func (k keys) notChecked() (reset, release []string) {
	if k.pair == "" {
		return nil, []string{k.client}
	}
	return nil, []string{k.pair, k.client, k.user}
}

// delay before checking an attempt, from the counts before it: nothing
// while the pair is under SlowAfter and the client and the name under
// BlockAfter, then one second doubling with each further failure, capped
// at MaxDelay. The reply waits whatever the outcome, so that a fast answer
// never tells a guesser that the password was right.
func (l Limits) delay(counts []int64) time.Duration {
	over := int64(-1)
	for i, c := range counts {
		from := int64(l.BlockAfter)
		if i == 0 && len(counts) > 1 {
			from = int64(l.SlowAfter)
		}
		over = max(over, c-from)
	}
	if over < 0 {
		return 0
	}
	d := min(time.Second, l.MaxDelay)
	for i := int64(0); i < over && d < l.MaxDelay; i++ {
		d *= 2
	}
	return min(d, l.MaxDelay)
}
