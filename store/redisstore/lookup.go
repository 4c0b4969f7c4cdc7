package redisstore

// Lookup answers every probe in one pipeline. Per list it reads the head
// (x, cur), the manual decisions on the probe's digests, and the buckets
// of the version this process last found current, each with the sentinel
// field. The head and the manual entries share the list's slot, so a
// cluster answers them from one node; the buckets go to theirs, and
// go-redis sends the per-node parts at once: one round trip in all.
//
// The remembered version is a hint, checked against the head read in the
// same round trip: when they differ (a new import, a drop) the list is
// asked again with the head's version, and when a bucket lacks the
// sentinel (its version was deleted after a switch between the head and
// the bucket reads) it is asked again too. So nothing cached outlives the
// Lookup that reads it: a list missing or without a version is never
// taken as such from memory, and a new import, a drop or a manual change
// counts from the next Lookup on, on any instance. The price is a second
// round trip for a list whose version this process has not seen yet: once
// per import, not per recipient.

import (
	"context"
	"fmt"
	"strconv"
	"sync"

	"github.com/redis/go-redis/v9"

	"github.com/dncgate/dncgate/listdb"
)

// lookupTries bounds how often Lookup asks a list again; each switch or
// each version first seen by this process costs one.
const lookupTries = 4

// heads remembers, per list, the version a Lookup last found current.
type heads struct{ m sync.Map } // list name → version

func (h *heads) get(name string) *version {
	if v, ok := h.m.Load(name); ok {
		v := v.(version)
		return &v
	}
	return nil
}

func (h *heads) set(name string, v *version) {
	if v == nil {
		h.m.Delete(name)
		return
	}
	h.m.Store(name, *v)
}

// AddHook adds a go-redis hook to the store's client, to trace or count
// its commands. On a cluster the hook sees each pipeline whole, before it
// is split by node.
func (s *Store) AddHook(h redis.Hook) { s.c.AddHook(h) }

// Contains is a Lookup of one probe.
func (s *Store) Contains(ctx context.Context, name string, digests ...listdb.Digest) ([]bool, error) {
	a, err := s.Lookup(ctx, []listdb.Probe{{List: name, Digests: digests}})
	if err != nil {
		return nil, err
	}
	if a[0].Missing {
		return nil, notFound(name)
	}
	return a[0].Found, nil
}

// Lookup asks every probe in one pipeline, then again only those whose
// list changed versions under it.
func (s *Store) Lookup(ctx context.Context, probes []listdb.Probe) ([]listdb.Answer, error) {
	out := make([]listdb.Answer, len(probes))
	todo := make([]int, len(probes))
	for i := range todo {
		todo[i] = i
	}
	hs := &s.heads
	for range lookupTries {
		reads := make([]*listRead, len(todo))
		var guard *redis.SliceCmd
		_, err := s.c.Pipelined(ctx, func(p redis.Pipeliner) error {
			guard = s.queueGuard(ctx, p)
			for j, i := range todo {
				reads[j] = s.queueRead(ctx, p, &probes[i], hs.get(probes[i].List))
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("redisstore: lookup: %w", err)
		}
		if err := s.checkGuard(guard); err != nil {
			return nil, err
		}
		next := todo[:0]
		for j, i := range todo {
			done, err := reads[j].answer(&out[i], hs)
			if err != nil {
				return nil, fmt.Errorf("redisstore: lookup %s: %w", probes[i].List, err)
			}
			if !done {
				next = append(next, i)
			}
		}
		if todo = next; len(todo) == 0 {
			return out, nil
		}
	}
	return nil, fmt.Errorf("redisstore: lookup %s: the list switched versions during each of %d tries",
		probes[todo[0]].List, lookupTries)
}

// listRead is one probe's commands in a pipeline.
type listRead struct {
	p            *listdb.Probe
	v            *version // the version asked, nil for none
	head, manual *redis.SliceCmd
	buckets      []bucketRead
}

// bucketRead is one bucket's HMGET: the sentinel, then the fields of the
// probe's digests at idx.
type bucketRead struct {
	cmd *redis.SliceCmd
	idx []int
}

// queueRead adds p's commands to the pipeline, for version v.
func (s *Store) queueRead(ctx context.Context, pl redis.Pipeliner, p *listdb.Probe, v *version) *listRead {
	r := &listRead{p: p, v: v}
	r.head = pl.HMGet(ctx, s.keys.listMeta(p.List), "x", "cur")
	if len(p.Digests) > 0 {
		fields := make([]string, len(p.Digests))
		for i := range p.Digests {
			fields[i] = string(p.Digests[i][:])
		}
		r.manual = pl.HMGet(ctx, s.keys.listManual(p.List), fields...)
	}
	if v == nil {
		return r
	}
	byBucket := map[uint32][]int{}
	for i := range p.Digests {
		b := v.bucket(&p.Digests[i])
		byBucket[b] = append(byBucket[b], i)
	}
	for b, idx := range byBucket {
		fields := make([]string, 0, 1+len(idx))
		fields = append(fields, sentinel)
		for _, i := range idx {
			fields = append(fields, field(&p.Digests[i]))
		}
		r.buckets = append(r.buckets, bucketRead{pl.HMGet(ctx, s.keys.listBucket(p.List, *v, b), fields...), idx})
	}
	return r
}

// answer fills a from the replies and records the head in hs; false when
// the list must be asked again.
func (r *listRead) answer(a *listdb.Answer, hs *heads) (bool, error) {
	*a = listdb.Answer{Found: make([]bool, len(r.p.Digests))}
	head := r.head.Val()
	if head[0] == nil {
		hs.set(r.p.List, nil)
		a.Missing = true
		return true, nil
	}
	var cur *version
	if s, ok := head[1].(string); ok {
		v, err := parseVersion(s)
		if err != nil {
			return false, err
		}
		cur = &v
	}
	if !sameVersion(cur, r.v) {
		hs.set(r.p.List, cur)
		if cur != nil {
			return false, nil // asked with a stale hint
		}
	}
	var decided []any
	if r.manual != nil {
		decided = r.manual.Val()
	}
	if cur != nil {
		for _, b := range r.buckets {
			got := b.cmd.Val()
			if got[0] == nil {
				return false, nil // the version was deleted after a switch
			}
			for j, i := range b.idx {
				a.Found[i] = got[j+1] != nil
			}
		}
		a.Version = strconv.FormatInt(cur.id, 10)
	}
	for i, m := range decided {
		if m != nil {
			a.Found[i] = m == "1"
		}
	}
	return true, nil
}

func sameVersion(a, b *version) bool {
	return a == nil && b == nil || a != nil && b != nil && *a == *b
}
