package ledger

import (
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"time"
)

// DefaultLimit and MaxLimit bound one page.
const (
	DefaultLimit = 100
	MaxLimit     = 10000
)

// Query selects decisions. Zero fields do not filter.
type Query struct {
	Since, Until time.Time // [Since, Until); zero Until: no upper bound
	Rep          string
	Verdict      Verdict
	Reason       Reason
	List         string // the list that decided
	Domain       string
	Digest       *Digest // exact recipient
	Limit        int
	Cursor       string // Page.Next of the previous page
}

// Page is one page of decisions, newest first; Next continues it, "" at
// the end.
type Page struct {
	Decisions []Decision
	Next      string
}

// Cursor is a position in the newest-first order: the next page starts
// strictly after (before in time) it.
type Cursor struct {
	At time.Time
	ID string
}

var errBadCursor = errors.New("ledger: bad cursor")

// Encode writes the cursor for Page.Next.
func (c Cursor) Encode() string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(c.At.UnixNano(), 10) + "." + c.ID))
}

// ParseCursor reads Page.Next; "" is the start.
func ParseCursor(s string) (*Cursor, error) {
	if s == "" {
		return nil, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, errBadCursor
	}
	ns, id, ok := strings.Cut(string(b), ".")
	n, err := strconv.ParseInt(ns, 10, 64)
	if !ok || err != nil || id == "" {
		return nil, errBadCursor
	}
	return &Cursor{At: time.Unix(0, n).UTC(), ID: id}, nil
}

// Normalise checks the query and fills its limit.
func (q Query) Normalise() (Query, *Cursor, error) {
	if q.Limit <= 0 {
		q.Limit = DefaultLimit
	}
	if q.Limit > MaxLimit {
		q.Limit = MaxLimit
	}
	if q.Verdict != "" && !q.Verdict.Valid() {
		return q, nil, errors.New("ledger: unknown verdict " + strconv.Quote(string(q.Verdict)))
	}
	c, err := ParseCursor(q.Cursor)
	return q, c, err
}

// NextPage returns the cursor after the last of a full page, else "".
func NextPage(ds []Decision, limit int) string {
	if len(ds) < limit || len(ds) == 0 {
		return ""
	}
	last := ds[len(ds)-1]
	return Cursor{At: last.At, ID: last.ID}.Encode()
}

// Month is the first instant of t's month, UTC: partitions are months.
func Month(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
}
