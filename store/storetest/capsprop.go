package storetest

import (
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/dncgate/dncgate/caps"
)

// propWindow and propHold are short enough that random steps cross both
// often.
const (
	propWindow = time.Hour
	propHold   = 10 * time.Minute
)

// capModel is what a cap key should hold: per id, its live hold's expiry
// and its send's time. Times are those of the suite's clock.
type capModel struct {
	limit int
	now   time.Time
	holds map[string]time.Time
	sends map[string]time.Time
	log   []time.Time // every commit that recorded a send, in order
}

// prune forgets what no longer counts at now.
func (m *capModel) prune() {
	for id, at := range m.sends {
		if !at.After(m.now.Add(-propWindow)) {
			delete(m.sends, id)
		}
	}
	for id, exp := range m.holds {
		if !exp.After(m.now) {
			delete(m.holds, id)
		}
	}
}

// reserve applies a reservation of id and returns the expected answer.
func (m *capModel) reserve(id string) caps.Reservation {
	m.prune()
	n := len(m.sends) + len(m.holds)
	if _, ok := m.sends[id]; ok {
		return caps.Reservation{OK: true, Count: n, Limit: m.limit}
	}
	if exp, ok := m.holds[id]; ok {
		m.holds[id] = maxTime(exp, m.now.Add(propHold))
		return caps.Reservation{OK: true, Count: n, Limit: m.limit}
	}
	if n < m.limit {
		m.holds[id] = m.now.Add(propHold)
		return caps.Reservation{OK: true, Count: n + 1, Limit: m.limit}
	}
	return caps.Reservation{Count: n, Limit: m.limit, NextSlot: m.nextSlot(n)}
}

// nextSlot follows caps.Reservation's rule: the k-th oldest send leaving
// the window, or, when holds fill the rest, the later of the last send
// leaving and enough holds expiring.
func (m *capModel) nextSlot(n int) time.Time {
	var sends, holds []time.Time
	for _, at := range m.sends {
		sends = append(sends, at.Add(propWindow))
	}
	for _, exp := range m.holds {
		holds = append(holds, exp)
	}
	slices.SortFunc(sends, time.Time.Compare)
	slices.SortFunc(holds, time.Time.Compare)
	k := n - m.limit + 1
	if k <= len(sends) {
		return sends[k-1]
	}
	next := holds[k-len(sends)-1]
	if len(sends) > 0 {
		next = maxTime(next, sends[len(sends)-1])
	}
	return next
}

func (m *capModel) commit(id string) {
	m.prune()
	delete(m.holds, id)
	if _, ok := m.sends[id]; !ok {
		m.sends[id] = m.now
		m.log = append(m.log, m.now)
	}
}

// maxInWindow is the most sends the log holds in any window: checking the
// windows that end at each send suffices, as time only moves forward.
func (m *capModel) maxInWindow() int {
	most := 0
	for i, end := range m.log {
		n := 0
		for _, at := range m.log[:i+1] {
			if at.After(end.Add(-propWindow)) {
				n++
			}
		}
		most = max(most, n)
	}
	return most
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// propIDs are the reservation ids a run draws from: few, so they recur.
var propIDs = []string{"a", "b", "c", "d", "e", "f"}

// testCapProperty drives one key through random reservations, commits of
// live holds, releases and time steps, comparing every answer with the
// model and checking that no window ever counts more than the limit.
func testCapProperty(t *testing.T, st caps.Store) {
	rapid.Check(t, func(rt *rapid.T) {
		p := &propRun{t: t, st: st, key: newCapKey(), m: &capModel{
			limit: rapid.IntRange(1, 4).Draw(rt, "limit"),
			now:   capEpoch, holds: map[string]time.Time{}, sends: map[string]time.Time{},
		}}
		rt.Repeat(map[string]func(*rapid.T){
			"reserve": p.reserve, "commit": p.commit, "release": p.release,
			"advance": p.advance, "": p.check,
		})
	})
}

// propRun is one property run: a store key and its model.
type propRun struct {
	t   *testing.T
	st  caps.Store
	key string
	m   *capModel
}

func (p *propRun) slot(id string) caps.Slot {
	return caps.Slot{Key: p.key, ID: id, Window: propWindow, Hold: propHold}
}

func (p *propRun) reserve(rt *rapid.T) {
	id := rapid.SampledFrom(propIDs).Draw(rt, "id")
	want := p.m.reserve(id)
	res, err := p.st.Reserve(p.t.Context(), []caps.Request{{Slot: p.slot(id), Limit: p.m.limit}}, p.m.now)
	if err != nil {
		rt.Fatalf("Reserve: %v", err)
	}
	if !sameReservation(res[0], want) {
		rt.Fatalf("Reserve(%s) at +%s = %s, want %s", id, p.m.now.Sub(capEpoch), show(res[0]), show(want))
	}
}

// commit commits only live holds: a commit after its hold expired may
// pass the limit by design, which the contract tests on their own.
func (p *propRun) commit(rt *rapid.T) {
	p.m.prune()
	held := slices.Sorted(maps.Keys(p.m.holds))
	if len(held) == 0 {
		rt.Skip("no live hold")
	}
	id := rapid.SampledFrom(held).Draw(rt, "id")
	p.m.commit(id)
	if err := p.st.Commit(p.t.Context(), []caps.Slot{p.slot(id)}, p.m.now); err != nil {
		rt.Fatalf("Commit: %v", err)
	}
}

func (p *propRun) release(rt *rapid.T) {
	id := rapid.SampledFrom(propIDs).Draw(rt, "id")
	delete(p.m.holds, id)
	if err := p.st.Release(p.t.Context(), []caps.Slot{p.slot(id)}); err != nil {
		rt.Fatalf("Release: %v", err)
	}
}

// advance moves time, often by exactly a hold or a window or a
// millisecond short of one, where boundary mistakes show.
func (p *propRun) advance(rt *rapid.T) {
	p.m.now = p.m.now.Add(rapid.OneOf(
		rapid.SampledFrom([]time.Duration{0, ms, propHold, propHold - ms, propWindow, propWindow - ms}),
		rapid.Map(rapid.Int64Range(0, int64(propWindow/ms)), func(n int64) time.Duration { return time.Duration(n) * ms }),
	).Draw(rt, "step"))
}

// check runs after every step: the limit holds in every window, and Usage
// agrees with the model.
func (p *propRun) check(rt *rapid.T) {
	m := p.m
	if n := m.maxInWindow(); n > m.limit {
		rt.Fatalf("the model counts %d sends in one window, over the limit %d", n, m.limit)
	}
	m.prune()
	n := len(m.sends) + len(m.holds)
	want := caps.Reservation{OK: n < m.limit, Count: n, Limit: m.limit}
	if !want.OK {
		want.NextSlot = m.nextSlot(n)
	}
	got, err := p.st.Usage(p.t.Context(), p.key, m.limit, propWindow, m.now)
	if err != nil {
		rt.Fatalf("Usage: %v", err)
	}
	if !sameReservation(got, want) {
		rt.Fatalf("Usage at +%s = %s, want %s", m.now.Sub(capEpoch), show(got), show(want))
	}
}

func sameReservation(a, b caps.Reservation) bool {
	return a.OK == b.OK && a.Count == b.Count && a.Limit == b.Limit && a.NextSlot.Equal(b.NextSlot)
}

func show(r caps.Reservation) string {
	s := fmt.Sprintf("{OK:%v Count:%d Limit:%d", r.OK, r.Count, r.Limit)
	if !r.NextSlot.IsZero() {
		s += " Next:+" + r.NextSlot.Sub(capEpoch).String()
	}
	return s + "}"
}
