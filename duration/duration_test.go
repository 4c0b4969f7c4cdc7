package duration

import (
	"errors"
	"strings"
	"testing"
	"time"

	"pgregory.net/rapid"
)

func TestParse(t *testing.T) {
	good := map[string]time.Duration{
		"0":       0,
		"0s":      0,
		"90s":     90 * time.Second,
		"10m":     10 * time.Minute,
		"36h":     36 * time.Hour,
		"5d":      5 * Day,
		"7d":      7 * Day,
		"2w":      14 * Day,
		"1d12h":   36 * time.Hour,
		"1w2h30m": Week + 2*time.Hour + 30*time.Minute,
		" 30s ":   30 * time.Second,
		"1.5h":    90 * time.Minute,
		"250ms":   250 * time.Millisecond,
	}
	for in, want := range good {
		got, err := Parse(in)
		if err != nil || got != want {
			t.Errorf("Parse(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	bad := map[string]string{
		"":                      "write a number and a unit",
		"7":                     "write a number and a unit",
		"d":                     "write a number and a unit",
		"7days":                 "write a number and a unit",
		"1d-2h":                 "write a number and a unit",
		"-5m":                   "must not be negative",
		"-3d":                   "must not be negative",
		"1.5d":                  "write a number and a unit",
		"99999999999999999999d": "too long",
		"1d2d":                  "write a number and a unit",
		"abc":                   "write a number and a unit",
	}
	for in, want := range bad {
		_, err := Parse(in)
		var de *Error
		if !errors.As(err, &de) || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), in) {
			t.Errorf("Parse(%q) error = %v; want one naming the value and %q", in, err, want)
		}
	}
}

func TestFormat(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0:                      "0s",
		10 * time.Minute:       "10m",
		2 * time.Hour:          "2h",
		90 * time.Minute:       "1h30m",
		7 * Day:                "7d",
		5 * Day:                "5d",
		36 * time.Hour:         "36h",
		250 * time.Millisecond: "250ms",
		Day + time.Second:      "24h0m1s",
	} {
		if got := Format(d); got != want {
			t.Errorf("Format(%v) = %q; want %q", d, got, want)
		}
	}
}

// Every length Format writes reads back as itself.
func TestFormatParses(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		d := time.Duration(rapid.Int64Range(0, int64(400*Week)).Draw(t, "d"))
		s := Format(d)
		got, err := Parse(s)
		if err != nil || got != d {
			t.Fatalf("Parse(Format(%d)) = Parse(%q) = %v, %v", d, s, got, err)
		}
	})
}
