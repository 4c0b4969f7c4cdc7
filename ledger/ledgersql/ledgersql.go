// Package ledgersql is what the SQL ledger backends share: the decision
// columns, the filters of a query and the scanning of rows. Statements are
// written with '?' placeholders; PostgreSQL's backend renumbers them.
package ledgersql

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/dncgate/dncgate/ledger"
)

// Columns are a decision's columns, in the order of Args and Scan.
const Columns = "id, at, ref, rep, sender, rcpt_masked, rcpt_digest, domain, country, country_from, " +
	"rcpt_type, rule, verdict, reason, match_list, match_version, match_key, lists, cap, " +
	"listener, client, subject, outcome, reply, outcome_at"

// NColumns is the number of Columns.
const NColumns = 25

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
	return []any{d.ID, tc.Value(d.At), d.Ref, d.Rep, d.Sender, d.RcptMasked, digest, d.Domain,
		d.Country, d.CountryFrom, d.RcptType, d.Rule, string(d.Verdict), string(d.Reason),
		d.Match.List, d.Match.Version, d.Match.KeyKind, EncodeLists(d.Lists), d.Cap,
		d.Listener, d.Client, d.Subject, string(d.Outcome.Kind), d.Outcome.Reply, outAt}
}

// Scanner is sql.Rows or pgx.Rows.
type Scanner interface{ Scan(dest ...any) error }

// Scan reads one row of Columns.
func Scan(r Scanner, tc TimeCodec) (ledger.Decision, error) {
	var (
		d                      ledger.Decision
		digest                 []byte
		lists, verdict, reason string
		outcome                string
		at, outAt              = tc.Dest(), tc.Dest()
	)
	err := r.Scan(&d.ID, at.Ptr(), &d.Ref, &d.Rep, &d.Sender, &d.RcptMasked, &digest, &d.Domain,
		&d.Country, &d.CountryFrom, &d.RcptType, &d.Rule, &verdict, &reason,
		&d.Match.List, &d.Match.Version, &d.Match.KeyKind, &lists, &d.Cap,
		&d.Listener, &d.Client, &d.Subject, &outcome, &d.Outcome.Reply, outAt.Ptr())
	if err != nil {
		return d, err
	}
	d.At, d.Outcome.At = at.Time(), outAt.Time()
	d.Verdict, d.Reason, d.Outcome.Kind = ledger.Verdict(verdict), ledger.Reason(reason), ledger.OutcomeKind(outcome)
	copy(d.RcptDigest[:], digest)
	d.Lists = DecodeLists(lists)
	return d, nil
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
	if !q.Until.IsZero() {
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
	if !q.Until.IsZero() {
		w.Add("at < ?", tc.Value(q.Until))
	}
	if q.Action != "" {
		w.Add("action = ?", string(q.Action))
	}
	if q.Digest != nil {
		w.Add("digest = ?", q.Digest[:])
	}
	return w
}

// Erased is what an erased person's kept decisions show instead of the
// address.
const Erased = "(erased)"
