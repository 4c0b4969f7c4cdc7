package suppression

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"time"

	"github.com/dncgate/dncgate/lists"
)

// ScrubOptions say how to read the file a scrub checks.
type ScrubOptions struct {
	// Read says how to read the file; a scrub keeps the header row, so
	// Read.Header is taken as true.
	Read lists.ReadOptions
	// Column is the addresses' column: a header name or position N.
	Column string
	// From is the sender the mail would come from, passed to Decide.
	From string
	// Now is when the check is made; nil is time.Now, asked each row.
	Now func() time.Time
	// Progress, when set, is called after each row with the counts so far.
	Progress func(ScrubCounts)
}

// ScrubCounts are the rows of a scrub by verdict; Invalid rows have no
// address to check.
type ScrubCounts struct {
	Allowed, Refused, TempFailed, Invalid int
}

// Rows is how many rows were checked.
func (c ScrubCounts) Rows() int { return c.Allowed + c.Refused + c.TempFailed + c.Invalid }

func (c *ScrubCounts) add(o Outcome) {
	switch o {
	case Allowed:
		c.Allowed++
	case Refused:
		c.Refused++
	default:
		c.TempFailed++
	}
}

// Scrub checks every address of a CSV file (a prospect list before a
// campaign) as the gateway would at RCPT, and writes the file to out with
// two more columns, the verdict and its reason, the header and delimiter
// kept. It streams: memory stays flat whatever the file's size. An error
// means out holds a partial result the caller must throw away.
func (c *Checker) Scrub(ctx context.Context, src io.Reader, out io.Writer, o ScrubOptions) (ScrubCounts, error) {
	var counts ScrubCounts
	now := o.Now
	if now == nil {
		now = time.Now
	}
	ro := o.Read
	ro.Header = true
	rd, err := lists.NewReader(src, ro)
	if err != nil {
		return counts, err
	}
	defer rd.Close()
	col, err := rd.Column(o.Column)
	if err != nil {
		return counts, err
	}
	w := csv.NewWriter(out)
	w.Comma = rd.Delimiter()
	if err := w.Write(append(append([]string(nil), rd.Header()...), "verdict", "reason")); err != nil {
		return counts, err
	}
	for row, err := range rd.All() {
		if err != nil {
			return counts, err
		}
		rec := append([]string(nil), row.Fields...)
		addr, verr := row.Value(col)
		if verr != nil {
			counts.Invalid++
			rec = append(rec, "invalid", verr.Error())
		} else if v, err := c.Decide(ctx, o.From, addr, now()); err != nil {
			return counts, fmt.Errorf("line %d: %w", row.Line, err)
		} else {
			counts.add(v.Outcome)
			rec = append(rec, v.Outcome.String(), v.Explain())
		}
		if err := w.Write(rec); err != nil {
			return counts, err
		}
		if o.Progress != nil {
			o.Progress(counts)
		}
	}
	w.Flush()
	return counts, w.Error()
}
