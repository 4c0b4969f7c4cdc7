package suppression

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/dncgate/dncgate/listdb"
	"github.com/dncgate/dncgate/lists"
)

// probeKeys are one recipient's keys, each kind computed once, when a list
// of that kind first asks for it.
type probeKeys struct {
	keyer         *listdb.Keyer
	norm          string // the normalised address
	local, domain string
	phones        []listdb.Digest // from the contact, already keyed

	// The kinds computed so far, in place: a handful of kinds exist, and
	// a map would be most of what a decision allocates.
	known  [maxKinds]kindKeys
	nKnown int
}

// kindKeys are the recipient's digests for one kind of list.
type kindKeys struct {
	kind    string
	digests []listdb.Digest
}

// maxKinds is more than the kinds of list there are; a kind beyond it is
// computed again each time it is asked for.
const maxKinds = 8

func newProbeKeys(keyer *listdb.Keyer, norm string) *probeKeys {
	at := strings.LastIndexByte(norm, '@')
	return &probeKeys{keyer: keyer, norm: norm, local: norm[:at], domain: norm[at+1:]}
}

// email is the digest of the address itself: the key of e-mail lists, the
// opt-out list and the contacts.
func (r *probeKeys) email() listdb.Digest {
	return r.of(lists.KindEmail.String())[0]
}

// of returns the digests a list of the named kind holds the recipient
// under: the address; the domain and its parents up to the registrable
// domain; the contact's phones; the address's hex digest for hashed lists.
// Nil when the recipient has no key of that kind (no phone, say).
func (r *probeKeys) of(kind string) []listdb.Digest {
	for _, k := range r.known[:r.nKnown] {
		if k.kind == kind {
			return k.digests
		}
	}
	var out []listdb.Digest
	switch k, err := lists.ParseKind(kind); {
	case err != nil:
		// A kind this version does not know matches nothing.
	case k == lists.KindEmail:
		out = []listdb.Digest{r.keyer.Key(kind, r.norm)}
	case k == lists.KindDomain:
		for _, d := range lists.DomainAndParents(r.domain) {
			out = append(out, r.keyer.Key(kind, d))
		}
	case k == lists.KindPhone:
		out = r.phones
	case k.Hashed():
		if hex, err := lists.HashNormalised(k, r.norm); err == nil {
			out = []listdb.Digest{r.keyer.Key(kind, hex)}
		}
	}
	if r.nKnown < len(r.known) {
		r.known[r.nKnown] = kindKeys{kind, out}
		r.nKnown++
	}
	return out
}

// errOptOutMissing is a store without its opt-out list: the caller must
// not send.
var errOptOutMissing = errors.New("the opt-out list is missing from the store (the store was emptied or never created): nothing can be sent until it is restored or re-created with `dncgate init`")

// lookup asks every governing list at once: one store call, one round trip
// on Redis. Lists the recipient has no key for are not asked.
func (c *Checker) lookup(ctx context.Context, r *probeKeys, gov []governed) ([]listdb.Answer, error) {
	answers := make([]listdb.Answer, len(gov))
	probes := make([]listdb.Probe, 0, len(gov))
	at := make([]int, 0, len(gov))
	for i, g := range gov {
		if ds := r.of(g.info.Meta.Kind); len(ds) > 0 {
			probes = append(probes, listdb.Probe{List: g.info.Meta.Name, Digests: ds})
			at = append(at, i)
		}
	}
	if len(probes) == 0 {
		return answers, nil
	}
	got, err := c.o.Lists.Lookup(ctx, probes)
	if err != nil {
		return nil, fmt.Errorf("looking the recipient up: %w", err)
	}
	if len(got) != len(probes) {
		return nil, fmt.Errorf("looking the recipient up: %d answers to %d lists", len(got), len(probes))
	}
	for j, i := range at {
		answers[i] = got[j]
	}
	// The opt-out list always exists once a store is created: gone, it
	// would answer nothing and let every opted-out address through.
	if len(at) > 0 && at[0] == 0 && answers[0].Missing {
		return nil, errOptOutMissing
	}
	return answers, nil
}

// metaCache keeps the lists' descriptions for a short time, so that a
// check costs no round trip for them.
type metaCache struct {
	src Lists
	ttl time.Duration

	mu     sync.Mutex
	loaded bool
	infos  []listdb.Info
	at     time.Time
}

// get returns the descriptions, read again when older than ttl. Those who
// ask while a read is running wait for it rather than add their own.
func (m *metaCache) get(ctx context.Context, now time.Time) ([]listdb.Info, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.loaded && now.Sub(m.at) < m.ttl && !now.Before(m.at) {
		return m.infos, nil
	}
	infos, err := m.src.Lists(ctx)
	if err != nil {
		return nil, err
	}
	m.infos, m.at, m.loaded = infos, now, true
	return infos, nil
}
