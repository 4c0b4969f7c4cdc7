package export

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/dncgate/dncgate/ledger"
)

// AuditHeader is the CSV header of audit events, in the order of
// AuditRow.
var AuditHeader = []string{"time", "id", "action", "by", "object", "digest", "source", "reason", "details"}

// AuditRow is e's cells, in the order of AuditHeader; the details as
// "key=value" pairs sorted by key, separated by spaces.
func AuditRow(e ledger.AuditEvent) []Cell {
	var d string
	if e.Digest != nil {
		d = digest(*e.Digest)
	}
	out := make([]Cell, 0, len(AuditHeader))
	for _, s := range [...]string{stamp(e.At), e.ID, string(e.Action), e.Actor, e.Object, d, string(e.Source), e.Reason, Details(e.Details)} {
		out = append(out, SafeCell(s))
	}
	return out
}

// Details writes an event's details as "key=value" pairs sorted by key.
func Details(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(k + "=" + m[k])
	}
	return b.String()
}

// AuditWriter writes pages of audit events.
type AuditWriter interface {
	Write([]ledger.AuditEvent) error
	Flush() error
}

// AuditCSV writes audit events as CSV with a header.
type AuditCSV struct{ w *csv.Writer }

// NewAuditCSV writes the header to w.
func NewAuditCSV(w io.Writer) (*AuditCSV, error) {
	c := &AuditCSV{w: csv.NewWriter(w)}
	return c, c.w.Write(AuditHeader)
}

// Write writes the events' rows.
func (c *AuditCSV) Write(evs []ledger.AuditEvent) error {
	row := make([]string, len(AuditHeader))
	for _, e := range evs {
		for i, cell := range AuditRow(e) {
			row[i] = string(cell)
		}
		if err := c.w.Write(row); err != nil {
			return err
		}
	}
	return nil
}

// Flush writes out what is buffered.
func (c *AuditCSV) Flush() error {
	c.w.Flush()
	return c.w.Error()
}

// AuditRecord is an audit event as JSON shows it.
type AuditRecord struct {
	Time    time.Time         `json:"time"`
	ID      string            `json:"id"`
	Action  ledger.Action     `json:"action"`
	By      string            `json:"by"`
	Object  string            `json:"object,omitempty"`
	Digest  string            `json:"digest,omitempty"`
	Source  ledger.Source     `json:"source,omitempty"`
	Reason  string            `json:"reason,omitempty"`
	Details map[string]string `json:"details,omitempty"`
}

// ToAuditRecord is e for JSON.
func ToAuditRecord(e ledger.AuditEvent) AuditRecord {
	r := AuditRecord{Time: e.At.UTC(), ID: e.ID, Action: e.Action, By: e.Actor, Object: e.Object,
		Source: e.Source, Reason: e.Reason, Details: e.Details}
	if e.Digest != nil {
		r.Digest = digest(*e.Digest)
	}
	return r
}

// AuditJSON writes one JSON object a line.
type AuditJSON struct {
	w   *bufio.Writer
	enc *json.Encoder
}

// NewAuditJSON writes to w.
func NewAuditJSON(w io.Writer) *AuditJSON {
	b := bufio.NewWriter(w)
	return &AuditJSON{w: b, enc: json.NewEncoder(b)}
}

// Write writes the events.
func (j *AuditJSON) Write(evs []ledger.AuditEvent) error {
	for _, e := range evs {
		if err := j.enc.Encode(ToAuditRecord(e)); err != nil {
			return err
		}
	}
	return nil
}

// Flush writes out what is buffered.
func (j *AuditJSON) Flush() error { return j.w.Flush() }
