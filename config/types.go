package config

import (
	"errors"
	"fmt"
	"github.com/dncgate/dncgate/duration"
	"log/slog"
	"strconv"
	"strings"
	"time"
)

// Duration is a time.Duration written in the one duration syntax of
// package duration: "30s", "10m", "72h", "7d", "2w" or "1d12h".
type Duration struct{ time.Duration }

// UnmarshalText parses a duration; negative values are refused because
// no setting of dncgate means anything with them.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := duration.Parse(string(b))
	if err != nil {
		return err
	}
	d.Duration = v
	return nil
}

// MarshalText writes the shortest form: "1m" rather than "1m0s", "7d"
// rather than "168h0m0s".
func (d Duration) MarshalText() ([]byte, error) {
	return []byte(d.String()), nil
}

func (d Duration) String() string { return duration.Format(d.Duration) }

// Size is a byte count written as 1048576, "512KiB" or "25MB" in the file.
type Size int64

// Units a size may carry. KB, MB and GB are decimal (SI); KiB, MiB and GiB
// binary (IEC 80000-13), so "25MB" is exactly 25,000,000 bytes.
const (
	B   Size = 1
	KB  Size = 1000
	MB  Size = 1000 * KB
	GB  Size = 1000 * MB
	KiB Size = 1024
	MiB Size = 1024 * KiB
	GiB Size = 1024 * MiB
)

// sizeUnits is ordered largest first so MarshalText picks the biggest exact one.
var sizeUnits = []struct {
	name string
	size Size
}{
	{"GiB", GiB}, {"GB", GB}, {"MiB", MiB}, {"MB", MB}, {"KiB", KiB}, {"KB", KB}, {"B", B},
}

// UnmarshalText parses a number of bytes with an optional unit.
func (s *Size) UnmarshalText(b []byte) error {
	v, err := parseSize(string(b))
	if err != nil {
		return fmt.Errorf("invalid size %q (%v)", b, err)
	}
	*s = v
	return nil
}

func parseSize(text string) (Size, error) {
	t := strings.TrimSpace(text)
	i := strings.IndexFunc(t, func(r rune) bool { return r < '0' || r > '9' })
	num, unit := t, "B"
	if i >= 0 {
		num, unit = t[:i], strings.TrimSpace(t[i:])
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil {
		return 0, errors.New(`write bytes, or a number and B, KB, MB, GB, KiB, MiB or GiB`)
	}
	for _, u := range sizeUnits {
		if strings.EqualFold(unit, u.name) {
			if n > int64(^uint64(0)>>1)/int64(u.size) {
				return 0, errors.New("too large")
			}
			return Size(n) * u.size, nil
		}
	}
	return 0, fmt.Errorf("unknown unit %q; use B, KB, MB, GB, KiB, MiB or GiB", unit)
}

// MarshalText writes the size with the largest unit that divides it exactly.
func (s Size) MarshalText() ([]byte, error) {
	return []byte(s.String()), nil
}

func (s Size) String() string {
	for _, u := range sizeUnits {
		if s != 0 && s%u.size == 0 && u.size != B {
			return strconv.FormatInt(int64(s/u.size), 10) + u.name
		}
	}
	return strconv.FormatInt(int64(s), 10)
}

// TLSMode says how a listener uses TLS.
type TLSMode string

const (
	TLSNone     TLSMode = "none"     // plain text (loopback or a TLS-terminating proxy in front)
	TLSStartTLS TLSMode = "starttls" // RFC 3207, the submission port 587 (RFC 6409)
	TLSImplicit TLSMode = "implicit" // TLS from the first byte, port 465 (RFC 8314 §3.3)
)

// Backend names a store implementation.
type Backend string

const (
	BackendEmbedded Backend = "embedded"
	BackendRedis    Backend = "redis"
)

// LogFormat is the operational log's encoding.
type LogFormat string

const (
	LogText LogFormat = "text"
	LogJSON LogFormat = "json"
)

// LogLevel is the operational log's threshold.
type LogLevel string

const (
	LevelDebug LogLevel = "debug"
	LevelInfo  LogLevel = "info"
	LevelWarn  LogLevel = "warn"
	LevelError LogLevel = "error"
)

// Slog converts the level for log/slog; unknown levels (refused by
// Validate) read as info.
func (l LogLevel) Slog() slog.Level {
	switch l {
	case LevelDebug:
		return slog.LevelDebug
	case LevelWarn:
		return slog.LevelWarn
	case LevelError:
		return slog.LevelError
	}
	return slog.LevelInfo
}
