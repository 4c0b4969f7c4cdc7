// Package ledgersql is what the SQL ledger backends share: the decision
// columns, the filters of a query and the scanning of rows. Statements are
// written with '?' placeholders; PostgreSQL's backend renumbers them.
package ledgersql

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/dncgate/dncgate/ledger"
)

// Columns are a decision's columns, in the order of Args and Scan: those
// a query filters on or an update rewrites (the outcome, and what an
// erasure blanks) each in a column of their own, the rest packed into
// extra (see EncodeExtra). An export reads millions of rows, and the
// drivers' cost is per column, not per byte.
const Columns = "id, at, ref, rep, rcpt_masked, rcpt_digest, domain, verdict, reason, match_list, " +
	"subject, outcome, reply, outcome_at, extra"

// NColumns is the number of Columns.
const NColumns = 15

// Placeholders is "?, ?, …" for one row.
var Placeholders = strings.TrimSuffix(strings.Repeat("?, ", NColumns), ", ")

// TimeCodec turns times into a backend's column values and back: SQLite
// keeps Unix nanoseconds, PostgreSQL timestamptz.
type TimeCodec interface {
	Value(t time.Time) any
	Dest() TimeDest
}

// TimeDest is a scan destination that yields a time.
type TimeDest interface {
	Ptr() any
	Time() time.Time
}

// Args are the column values of d.
func Args(d ledger.Decision, tc TimeCodec) []any {
	var outAt any
	if !d.Outcome.At.IsZero() {
		outAt = tc.Value(d.Outcome.At)
	}
	var digest any
	if d.RcptDigest != (ledger.Digest{}) {
		digest = d.RcptDigest[:]
	}
	return []any{d.ID, tc.Value(d.At), d.Ref, d.Rep, d.RcptMasked, digest, d.Domain,
		string(d.Verdict), string(d.Reason), d.Match.List, d.Subject,
		string(d.Outcome.Kind), d.Outcome.Reply, outAt, EncodeExtra(d)}
}

// Scanner is sql.Rows or pgx.Rows.
type Scanner interface{ Scan(dest ...any) error }

// Row is the scan destinations of one row of Columns, reused from row to
// row so that reading a page allocates little beyond the strings kept.
type Row struct {
	d               ledger.Decision
	digest, extra   []byte
	verdict, reason string
	outcome         string
	at, outAt       TimeDest
	dest            []any
}

// NewRow makes the destinations for tc's times.
func NewRow(tc TimeCodec) *Row {
	r := &Row{at: tc.Dest(), outAt: tc.Dest()}
	d := &r.d
	r.dest = []any{&d.ID, r.at.Ptr(), &d.Ref, &d.Rep, &d.RcptMasked, &r.digest, &d.Domain,
		&r.verdict, &r.reason, &d.Match.List, &d.Subject, &r.outcome, &d.Outcome.Reply, r.outAt.Ptr(), &r.extra}
	return r
}

// Scan reads one row of Columns.
func (r *Row) Scan(s Scanner) (ledger.Decision, error) {
	r.d = ledger.Decision{}
	r.digest, r.extra = r.digest[:0], r.extra[:0]
	if err := s.Scan(r.dest...); err != nil {
		return ledger.Decision{}, err
	}
	d := r.d
	d.At, d.Outcome.At = r.at.Time(), r.outAt.Time()
	d.Verdict, d.Reason, d.Outcome.Kind = ledger.Verdict(r.verdict), ledger.Reason(r.reason), ledger.OutcomeKind(r.outcome)
	copy(d.RcptDigest[:], r.digest)
	if err := DecodeExtra(r.extra, &d); err != nil {
		return ledger.Decision{}, fmt.Errorf("ledger: decision %s: %w", d.ID, err)
	}
	return d, nil
}

// extraVersion is the first byte of the extra column: the layout of what
// follows, so a later layout can still read rows written with this one.
const extraVersion = 1

// ExtraColumns are the fields packed into extra, in their order there;
// before the packing, ledgers had them as columns of these names (see
// Migrate).
var ExtraColumns = []string{"sender", "country", "country_from", "rcpt_type", "rule", "match_version",
	"match_key", "lists", "cap", "listener", "client"}

func extraFields(d *ledger.Decision) [11]*string {
	return [...]*string{&d.Sender, &d.Country, &d.CountryFrom, &d.RcptType, &d.Rule, &d.Match.Version,
		&d.Match.KeyKind, nil, &d.Cap, &d.Listener, &d.Client}
}

// EncodeExtra packs the fields of ExtraColumns: the version byte, then
// each field as a uvarint length and its bytes.
func EncodeExtra(d ledger.Decision) []byte {
	return PackExtra(d.Sender, d.Country, d.CountryFrom, d.RcptType, d.Rule, d.Match.Version,
		d.Match.KeyKind, EncodeLists(d.Lists), d.Cap, d.Listener, d.Client)
}

// PackExtra packs the values of ExtraColumns, in that order.
func PackExtra(vals ...string) []byte {
	n := 1
	for _, v := range vals {
		n += binary.MaxVarintLen32 + len(v)
	}
	b := make([]byte, 1, n)
	b[0] = extraVersion
	for _, v := range vals {
		b = binary.AppendUvarint(b, uint64(len(v)))
		b = append(b, v...)
	}
	return b
}

// DecodeExtra unpacks b into d's fields. The fields share one string of
// the column's bytes.
func DecodeExtra(b []byte, d *ledger.Decision) error {
	if len(b) == 0 || b[0] != extraVersion {
		return errors.New("extra column: unknown layout")
	}
	s := string(b[1:])
	var lists string
	fields := extraFields(d)
	fields[7] = &lists
	for i, f := range fields {
		n, w := uvarint(s)
		if w <= 0 || uint64(len(s)-w) < n {
			return fmt.Errorf("extra column: field %s cut short", ExtraColumns[i])
		}
		*f, s = s[w:w+int(n)], s[w+int(n):]
	}
	if s != "" {
		return errors.New("extra column: bytes after the last field")
	}
	d.Lists = DecodeLists(lists)
	return nil
}

// uvarint is binary.Uvarint on a string, without copying it to bytes.
func uvarint(s string) (uint64, int) {
	var x uint64
	for i := 0; i < len(s) && i < binary.MaxVarintLen64; i++ {
		c := s[i]
		if c < 0x80 {
			return x | uint64(c)<<(7*i), i + 1
		}
		x |= uint64(c&0x7f) << (7 * i)
	}
	return 0, 0
}

// Lists are stored as "name US version RS name US version" with the ASCII
// unit and record separators, which no list name or version holds: an
// export reads millions of rows, and splitting is several times cheaper
// than decoding JSON.
const (
	unitSep   = "\x1f"
	recordSep = "\x1e"
)

// EncodeLists is the lists column of ls.
func EncodeLists(ls []ledger.ListVersion) string {
	var b strings.Builder
	for i, l := range ls {
		if i > 0 {
			b.WriteString(recordSep)
		}
		b.WriteString(strings.ReplaceAll(l.List, unitSep, ""))
		b.WriteString(unitSep)
		b.WriteString(strings.ReplaceAll(l.Version, recordSep, ""))
	}
	return b.String()
}

// DecodeLists reads a lists column.
func DecodeLists(s string) []ledger.ListVersion {
	if s == "" {
		return nil
	}
	out := make([]ledger.ListVersion, 0, strings.Count(s, recordSep)+1)
	for rec := range strings.SplitSeq(s, recordSep) {
		name, version, _ := strings.Cut(rec, unitSep)
		out = append(out, ledger.ListVersion{List: name, Version: version})
	}
	return out
}

// Where is a query's conditions and their arguments.
type Where struct {
	Conds []string
	Args  []any
}

// Add appends one condition with its arguments.
func (w *Where) Add(cond string, args ...any) {
	w.Conds = append(w.Conds, cond)
	w.Args = append(w.Args, args...)
}

// SQL is " WHERE a AND b", or "" without conditions.
func (w *Where) SQL() string {
	if len(w.Conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(w.Conds, " AND ")
}

// Filters turns q (normalised) and its cursor into conditions.
func Filters(q ledger.Query, c *ledger.Cursor, tc TimeCodec) *Where {
	w := &Where{}
	if !q.Since.IsZero() {
		w.Add("at >= ?", tc.Value(q.Since))
	}
	// A cursor before Until implies it; given both, SQLite bounds its
	// primary-key scan by Until and reads every row down to the cursor,
	// so page k of a range cost k pages. The cursor alone bounds it.
	if !q.Until.IsZero() && (c == nil || !c.At.Before(q.Until)) {
		w.Add("at < ?", tc.Value(q.Until))
	}
	eq := func(col, v string) {
		if v != "" {
			w.Add(col+" = ?", v)
		}
	}
	eq("rep", q.Rep)
	eq("verdict", string(q.Verdict))
	eq("reason", string(q.Reason))
	eq("match_list", q.List)
	eq("domain", q.Domain)
	if q.Digest != nil {
		w.Add("rcpt_digest = ?", q.Digest[:])
	}
	if c != nil {
		w.Add("(at, id) < (?, ?)", tc.Value(c.At), c.ID)
	}
	return w
}

// OrderNewest is the page order.
const OrderNewest = " ORDER BY at DESC, id DESC"

// Rebind turns '?' placeholders into $1, $2, … for PostgreSQL. The
// statements are our own and hold no '?' in literals.
func Rebind(q string) string {
	var b strings.Builder
	n := 0
	for _, r := range q {
		if r == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// AuditColumns are an audit event's columns, in the order of AuditArgs.
const AuditColumns = "id, at, actor, action, object, digest, source, reason, details"

// AuditArgs are the column values of e.
func AuditArgs(e ledger.AuditEvent, tc TimeCodec) []any {
	details, _ := json.Marshal(e.Details)
	var digest any
	if e.Digest != nil {
		digest = e.Digest[:]
	}
	return []any{e.ID, tc.Value(e.At), e.Actor, string(e.Action), e.Object, digest,
		string(e.Source), e.Reason, string(details)}
}

// ScanAudit reads one row of AuditColumns.
func ScanAudit(r Scanner, tc TimeCodec) (ledger.AuditEvent, error) {
	var (
		e                       ledger.AuditEvent
		digest                  []byte
		action, source, details string
		at                      = tc.Dest()
	)
	if err := r.Scan(&e.ID, at.Ptr(), &e.Actor, &action, &e.Object, &digest, &source, &e.Reason, &details); err != nil {
		return e, err
	}
	e.At, e.Action, e.Source = at.Time(), ledger.Action(action), ledger.Source(source)
	if len(digest) > 0 {
		var d ledger.Digest
		copy(d[:], digest)
		e.Digest = &d
	}
	if details != "" && details != "null" {
		if err := json.Unmarshal([]byte(details), &e.Details); err != nil {
			return e, fmt.Errorf("ledger: audit %s: details: %w", e.ID, err)
		}
	}
	return e, nil
}

// AuditFilters turns an audit query into conditions.
func AuditFilters(q ledger.AuditQuery, tc TimeCodec) *Where {
	w := &Where{}
	if !q.Since.IsZero() {
		w.Add("at >= ?", tc.Value(q.Since))
	}
	switch {
	case q.After != nil && (q.Until.IsZero() || q.After.At.Before(q.Until)):
		// The cursor is the upper bound in time: given as a plain bound
		// on at, the index is entered at the cursor rather than at Until
		// (SQLite picks the at bound over the row value), so a deep page
		// reads what the first does.
		w.Add("at <= ?", tc.Value(q.After.At))
	case !q.Until.IsZero():
		w.Add("at < ?", tc.Value(q.Until))
	}
	if q.Action != "" {
		w.Add("action = ?", string(q.Action))
	}
	if q.Digest != nil {
		w.Add("digest = ?", q.Digest[:])
	}
	if q.Actor != "" {
		w.Add("actor = ?", q.Actor)
	}
	if q.Object != "" {
		w.Add("object = ?", q.Object)
	}
	if q.After != nil {
		w.Add("(at, id) < (?, ?)", tc.Value(q.After.At), q.After.ID)
	}
	return w
}

// Erased is what an erased person's kept decisions show instead of the
// address.
const Erased = "(erased)"
