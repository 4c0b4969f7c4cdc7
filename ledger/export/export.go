// Package export writes ledger decisions as CSV and JSON lines, for the
// CLI and the console alike. CSV cells are neutralised against
// spreadsheet formulas once, where each cell is made.
package export

import (
	"bufio"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"io"
	"strings"
	"time"

	"github.com/dncgate/dncgate/ledger"
)

// Header is the CSV header, in the order of Row.
var Header = []string{"time", "ref", "rep", "sender", "recipient", "digest", "domain", "country",
	"country_from", "type", "rule", "verdict", "reason", "list", "version", "key_kind", "lists",
	"cap", "outcome", "reply", "outcome_time", "listener", "client", "subject"}

// Cell is a CSV cell that a spreadsheet will not run as a formula.
type Cell string

// SafeCell neutralises s: a cell starting with =, +, -, @, a tab or a CR
// is what spreadsheets read as a formula (CSV injection), so it gets a
// leading apostrophe, which they show as text and hide.
func SafeCell(s string) Cell {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return Cell("'" + s)
	}
	return Cell(s)
}

// Row is d's cells, in the order of Header.
func Row(d ledger.Decision) []Cell { return AppendRow(make([]Cell, 0, len(Header)), d) }

// AppendRow appends d's cells to dst, so an export reuses one slice.
func AppendRow(dst []Cell, d ledger.Decision) []Cell {
	for _, s := range [...]string{stamp(d.At), d.Ref, d.Rep, d.Sender, d.RcptMasked, digest(d.RcptDigest), d.Domain,
		d.Country, d.CountryFrom, d.RcptType, d.Rule, string(d.Verdict), string(d.Reason),
		d.Match.List, d.Match.Version, d.Match.KeyKind, Lists(d.Lists), d.Cap,
		string(d.Outcome.Kind), d.Outcome.Reply, stamp(d.Outcome.At), d.Listener, d.Client, d.Subject} {
		dst = append(dst, SafeCell(s))
	}
	return dst
}

// Lists writes the consulted lists as "name@version name@version".
func Lists(ls []ledger.ListVersion) string {
	parts := make([]string, len(ls))
	for i, l := range ls {
		parts[i] = l.List + "@" + l.Version
	}
	return strings.Join(parts, " ")
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

func digest(d ledger.Digest) string {
	if d == (ledger.Digest{}) {
		return ""
	}
	return hex.EncodeToString(d[:])
}

// CSV writes decisions as CSV with a header.
type CSV struct {
	w     *csv.Writer
	cells []Cell
	buf   []string
}

// NewCSV writes the header to w.
func NewCSV(w io.Writer) (*CSV, error) {
	c := &CSV{w: csv.NewWriter(w), cells: make([]Cell, 0, len(Header)), buf: make([]string, len(Header))}
	return c, c.w.Write(Header)
}

// Write writes the decisions' rows.
func (c *CSV) Write(ds []ledger.Decision) error {
	for _, d := range ds {
		c.cells = AppendRow(c.cells[:0], d)
		for i, cell := range c.cells {
			c.buf[i] = string(cell)
		}
		if err := c.w.Write(c.buf); err != nil {
			return err
		}
	}
	return nil
}

// Flush writes out what is buffered.
func (c *CSV) Flush() error {
	c.w.Flush()
	return c.w.Error()
}

// Record is a decision as JSON shows it.
type Record struct {
	Time        time.Time            `json:"time"`
	ID          string               `json:"id"`
	Ref         string               `json:"ref"`
	Rep         string               `json:"rep"`
	Sender      string               `json:"sender"`
	Recipient   string               `json:"recipient"`
	Digest      string               `json:"digest,omitempty"`
	Domain      string               `json:"domain"`
	Country     string               `json:"country,omitempty"`
	CountryFrom string               `json:"country_from,omitempty"`
	Type        string               `json:"type,omitempty"`
	Rule        string               `json:"rule,omitempty"`
	Verdict     ledger.Verdict       `json:"verdict"`
	Reason      ledger.Reason        `json:"reason"`
	List        string               `json:"list,omitempty"`
	Version     string               `json:"version,omitempty"`
	KeyKind     string               `json:"key_kind,omitempty"`
	Lists       []ledger.ListVersion `json:"lists"`
	Cap         string               `json:"cap,omitempty"`
	Outcome     ledger.OutcomeKind   `json:"outcome"`
	Reply       string               `json:"reply,omitempty"`
	OutcomeTime *time.Time           `json:"outcome_time,omitempty"`
	Listener    string               `json:"listener,omitempty"`
	Client      string               `json:"client,omitempty"`
	Subject     string               `json:"subject,omitempty"`
}

// ToRecord is d for JSON.
func ToRecord(d ledger.Decision) Record {
	r := Record{Time: d.At, ID: d.ID, Ref: d.Ref, Rep: d.Rep, Sender: d.Sender, Recipient: d.RcptMasked,
		Digest: digest(d.RcptDigest), Domain: d.Domain, Country: d.Country, CountryFrom: d.CountryFrom,
		Type: d.RcptType, Rule: d.Rule, Verdict: d.Verdict, Reason: d.Reason, List: d.Match.List,
		Version: d.Match.Version, KeyKind: d.Match.KeyKind, Lists: d.Lists, Cap: d.Cap,
		Outcome: d.Outcome.Kind, Reply: d.Outcome.Reply, Listener: d.Listener, Client: d.Client, Subject: d.Subject}
	if !d.Outcome.At.IsZero() {
		t := d.Outcome.At
		r.OutcomeTime = &t
	}
	return r
}

// JSON writes one JSON object a line.
type JSON struct {
	w   *bufio.Writer
	enc *json.Encoder
}

// NewJSON writes to w.
func NewJSON(w io.Writer) *JSON {
	b := bufio.NewWriter(w)
	return &JSON{w: b, enc: json.NewEncoder(b)}
}

// Write writes the decisions.
func (j *JSON) Write(ds []ledger.Decision) error {
	for _, d := range ds {
		if err := j.enc.Encode(ToRecord(d)); err != nil {
			return err
		}
	}
	return nil
}

// Flush writes out what is buffered.
func (j *JSON) Flush() error { return j.w.Flush() }
