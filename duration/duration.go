// Package duration is the one syntax for lengths of time in dncgate's
// configuration and on its command line: a Go duration ("90s", "10m",
// "36h"), whole days ("7d") or weeks ("2w"), or days followed by a Go
// duration ("1d12h"). Negative lengths mean nothing to any setting and are
// refused.
package duration

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Day and Week are the calendar-free units the syntax adds to Go's.
const (
	Day  = 24 * time.Hour
	Week = 7 * Day
)

// maxDays keeps days*24h inside a time.Duration.
const maxDays = int64(^uint64(0)>>1) / int64(Day)

// Error says which text could not be read as a length of time, and how to
// write one.
type Error struct {
	Text   string
	Reason string // empty for a malformed value
}

func (e *Error) Error() string {
	if e.Reason != "" {
		return fmt.Sprintf("invalid duration %q: %s", e.Text, e.Reason)
	}
	return fmt.Sprintf("invalid duration %q (write a number and a unit: \"30s\", \"10m\", \"36h\", \"7d\", \"2w\")", e.Text)
}

// ErrNegative is the reason of an Error for a negative length.
var ErrNegative = errors.New("must not be negative")

// Parse reads a length of time written in the one syntax.
func Parse(s string) (time.Duration, error) {
	t := strings.TrimSpace(s)
	if t == "" {
		return 0, &Error{Text: s}
	}
	if strings.HasPrefix(t, "-") {
		if _, err := Parse(t[1:]); err == nil {
			return 0, &Error{Text: s, Reason: ErrNegative.Error()}
		}
		return 0, &Error{Text: s}
	}
	if t == "0" {
		return 0, nil
	}
	var total time.Duration
	rest := t
	// A leading count of weeks or days, then optionally Go's units.
	i := 0
	for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
		i++
	}
	if i > 0 && i < len(rest) && (rest[i] == 'd' || rest[i] == 'w') {
		n, err := strconv.ParseInt(rest[:i], 10, 64)
		days := n
		if rest[i] == 'w' {
			days = n * 7
		}
		if err != nil || n > maxDays/7 || days > maxDays {
			return 0, &Error{Text: s, Reason: "too long"}
		}
		total = time.Duration(days) * Day
		rest = rest[i+1:]
		if rest == "" {
			return total, nil
		}
		if rest[0] < '0' || rest[0] > '9' {
			return 0, &Error{Text: s}
		}
	}
	d, err := time.ParseDuration(rest)
	if err != nil {
		return 0, &Error{Text: s}
	}
	if d < 0 {
		return 0, &Error{Text: s, Reason: ErrNegative.Error()}
	}
	if total > 0 && d > time.Duration(1<<63-1)-total {
		return 0, &Error{Text: s, Reason: "too long"}
	}
	return total + d, nil
}

// Format writes d in the syntax Parse reads: whole days as "7d", any
// other length in Go's units ("36h", "10m", "1h30m", "90ms"); weeks and
// mixed forms are read, never written.
func Format(d time.Duration) string {
	if d < 0 {
		return "-" + Format(-d)
	}
	if d > 0 && d%Day == 0 {
		return strconv.FormatInt(int64(d/Day), 10) + "d"
	}
	s := d.String()
	// "1m0s" → "1m", "2h0m0s" → "2h".
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
