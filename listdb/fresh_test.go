package listdb

import (
	"testing"
	"time"
)

func TestFreshnessDue(t *testing.T) {
	now := time.Date(2026, 6, 15, 12, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	m := Meta{MaxAge: 5 * day}
	for _, c := range []struct {
		age  time.Duration
		want State
		due  bool
	}{{time.Hour, Fresh, false}, {4*day + time.Hour, Fresh, true}, {5 * day, Fresh, true}, {5*day + time.Second, Stale, false}} {
		f := FreshnessOf(m, Version{ID: "1", ImportedAt: now.Add(-c.age)}, Manual{}, now)
		if f.State != c.want || f.DueWithin(now, day) != c.due || !f.Due.Equal(now.Add(-c.age+5*day)) {
			t.Errorf("age %s: %+v, due within a day %v; want %s, %v", c.age, f, f.DueWithin(now, day), c.want, c.due)
		}
	}
	if f := FreshnessOf(Meta{}, Version{ID: "1", ImportedAt: now.Add(-900 * day)}, Manual{}, now); f.State != Fresh || !f.Due.IsZero() || f.DueWithin(now, day) {
		t.Errorf("a list without a max age: %+v", f)
	}
}
