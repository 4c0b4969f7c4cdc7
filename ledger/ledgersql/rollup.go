package ledgersql

import (
	"github.com/dncgate/dncgate/ledger"
)

// RollupTable is the per-day rollup: (day, rep, verdict, reason) → n.
const RollupTable = "daily"

// RollupDDL creates the rollup.
const RollupDDL = `CREATE TABLE ` + RollupTable + ` (
	day BIGINT NOT NULL, rep TEXT NOT NULL, verdict TEXT NOT NULL, reason TEXT NOT NULL, n BIGINT NOT NULL,
	PRIMARY KEY (day, rep, verdict, reason))`

// BumpRollup adds a row's count to the rollup.
const BumpRollup = "INSERT INTO " + RollupTable + " (day, rep, verdict, reason, n) VALUES (?, ?, ?, ?, ?) " +
	"ON CONFLICT (day, rep, verdict, reason) DO UPDATE SET n = " + RollupTable + ".n + excluded.n"

// BumpArgs are BumpRollup's arguments for r.
func BumpArgs(r ledger.DayCount) []any {
	return []any{int64(r.Day), r.Rep, string(r.Verdict), string(r.Reason), r.N}
}

// ReadRollup is the query of q's rollup rows, with its arguments.
func ReadRollup(q ledger.TrendQuery) (string, []any) {
	w := rollupWhere(q)
	return "SELECT day, rep, verdict, reason, n FROM " + RollupTable + w.SQL(), w.Args
}

// ReadTrendDays and ReadTrendReps are the queries of q's rollup summed
// per day and per rep, in ReadRollup's columns (rep empty, day zero).
func ReadTrendDays(q ledger.TrendQuery) (string, []any) {
	w := rollupWhere(q)
	return "SELECT day, '', verdict, reason, CAST(sum(n) AS BIGINT) FROM " + RollupTable + w.SQL() +
		" GROUP BY day, verdict, reason", w.Args
}

func ReadTrendReps(q ledger.TrendQuery) (string, []any) {
	w := rollupWhere(q)
	return "SELECT 0, rep, verdict, reason, CAST(sum(n) AS BIGINT) FROM " + RollupTable + w.SQL() +
		" GROUP BY rep, verdict, reason", w.Args
}

func rollupWhere(q ledger.TrendQuery) *Where {
	w := &Where{}
	w.Add("day >= ?", int64(q.From))
	w.Add("day <= ?", int64(q.To))
	if q.Rep != "" {
		w.Add("rep = ?", q.Rep)
	}
	return w
}

// ScanDayCount reads one row of ReadRollup.
func ScanDayCount(r Scanner) (ledger.DayCount, error) {
	var (
		c               ledger.DayCount
		day             int64
		verdict, reason string
	)
	err := r.Scan(&day, &c.Rep, &verdict, &reason, &c.N)
	c.Day, c.Verdict, c.Reason = ledger.Day(day), ledger.Verdict(verdict), ledger.Reason(reason)
	return c, err
}

// Refusals is the condition of the rows a refused retention governs.
const Refusals = "verdict <> 'allowed'"

// Sends is the condition of the rows a sent retention governs.
const Sends = "verdict = 'allowed'"
