package caps

import (
	"fmt"
	"strconv"
	"time"
)

// Refusal says which cap a recipient reached. It is a policy decision, not
// a failure: the caller answers 550 5.7.1, or 451 4.7.1 when Temporary.
type Refusal struct {
	Cap       string
	Scope     Scope
	Count     int
	Limit     int
	Window    time.Duration
	NextSlot  time.Time // zero when unknown
	Temporary bool      // the cap is configured to answer 4xx
}

func refusal(r Rule, res Reservation) *Refusal {
	return &Refusal{
		Cap: r.Name, Scope: r.Scope, Count: res.Count, Limit: res.Limit,
		Window: r.Window, NextSlot: res.NextSlot, Temporary: r.Temporary,
	}
}

// slotLayout is how the next slot is shown: to the minute, in UTC, which
// every rep's clock can be compared with.
const slotLayout = "2006-01-02 15:04 UTC"

// Text is the reply text: "cap recipient-30d reached (3 in 30 days); next
// slot 2026-12-03 14:10 UTC". The next slot is rounded up to the minute,
// so a rep who waits until the time shown finds the slot open.
func (r *Refusal) Text() string {
	s := fmt.Sprintf("cap %s reached (%d in %s)", r.Cap, r.Count, Span(r.Window))
	if r.NextSlot.IsZero() {
		return s
	}
	next := r.NextSlot.UTC()
	if up := next.Truncate(time.Minute); up.Before(next) {
		next = up.Add(time.Minute)
	}
	return s + "; next slot " + next.Format(slotLayout)
}

// Span writes a window for people: "30 days", "24 hours", "90 minutes".
// Whole days are used from two days up; a single day reads better as
// "24 hours".
func Span(d time.Duration) string {
	const day = 24 * time.Hour
	switch {
	case d >= 2*day && d%day == 0:
		return plural(int64(d/day), "day")
	case d >= time.Hour && d%time.Hour == 0:
		return plural(int64(d/time.Hour), "hour")
	case d >= time.Minute && d%time.Minute == 0:
		return plural(int64(d/time.Minute), "minute")
	case d >= time.Second && d%time.Second == 0:
		return plural(int64(d/time.Second), "second")
	}
	return d.String()
}

func plural(n int64, unit string) string {
	s := strconv.FormatInt(n, 10) + " " + unit
	if n != 1 {
		s += "s"
	}
	return s
}
