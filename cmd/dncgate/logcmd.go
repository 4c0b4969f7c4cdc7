package main

import (
	"context"
	"errors"
	"fmt"
	"github.com/dncgate/dncgate/duration"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/dncgate/dncgate/config"
	"github.com/dncgate/dncgate/ledger"
	"github.com/dncgate/dncgate/ledger/export"
	"github.com/dncgate/dncgate/lists"
)

// log is "dncgate log [flags]", "dncgate log ref REF" and "dncgate log
// audit [flags]".
func (a *app) log(ctx context.Context, args []string) error {
	if a.doc != nil {
		// "log" is a leaf with one subcommand: describe both.
		_ = a.logQuery(ctx, nil)
		a.describeOne(ctx, "dncgate log ref", "show one transaction whole", func() { _ = a.logRef(ctx, nil) })
		a.describeOne(ctx, "dncgate log audit", "show the audit trail: who changed what may be sent", func() { _ = a.logAudit(ctx, nil) })
		return errHelp
	}
	if len(args) > 0 && args[0] == "ref" {
		return a.logRef(ctx, args[1:])
	}
	if len(args) > 0 && args[0] == "audit" {
		return a.logAudit(ctx, args[1:])
	}
	return a.logQuery(ctx, args)
}

type logCmd struct {
	common
	fs                                       *flagSet
	since, until, rep, verdict, reason, list *string
	domain, address, format, cursor          *string
	asJSON                                   *bool
	limit                                    *int
}

func (a *app) logQuery(ctx context.Context, args []string) error {
	c := &logCmd{fs: a.newFlags("dncgate log", "", "Show recipient decisions from the send ledger, newest first: who tried to\n"+
		"write to whom, what was decided and on which list versions, and what\n"+
		"became of the send. Or: dncgate log ref REF, one transaction whole;\n"+
		"dncgate log audit, the audit trail.\n"+
		"A table shows one page and the --cursor for the next; csv and json\n"+
		"write every match unless --limit is given.")}
	c.register(c.fs)
	c.since = c.fs.String("since", "24h", "from `T`: a duration back from now (\"24h\", \"7d\"), a date or an RFC 3339 time")
	c.until = c.fs.String("until", "", "up to `T` (exclusive), as --since; default: now")
	c.rep = c.fs.String("rep", "", "only the rep (AUTH identity) `R`")
	c.verdict = c.fs.String("verdict", "", "only `V`: allowed, refused or tempfail")
	c.reason = c.fs.String("reason", "", "only the reason `CODE` (opt-out, list:be-dncm, policy:consent-required, …)")
	c.list = c.fs.String("list", "", "only refusals by the list `NAME`")
	c.domain = c.fs.String("domain", "", "only recipients at the domain `D`")
	c.address = c.fs.String("address", "", "only the recipient `A` (searched by its keyed digest)")
	c.format, c.asJSON = formatFlags(c.fs)
	c.cursor = c.fs.String("cursor", "", "continue after the page that printed this `CURSOR`")
	c.limit = c.fs.Int("limit", -1, "at most `N` decisions (default: 50 for a table, all for csv and json)")
	if _, err := c.fs.parse(args, 0, 0); err != nil {
		return err
	}
	q, err := c.query(time.Now())
	if err != nil {
		return err
	}
	all := *c.limit < 0 && *c.format != "table"
	if *c.limit < 0 {
		q.Limit = 50
		if all {
			q.Limit = ledger.MaxLimit
		}
	}
	return c.withLedger(ctx, a, func(cfg *config.Config, l ledger.Ledger) error {
		if *c.address != "" {
			d, err := addressDigest(cfg, *c.address)
			if err != nil {
				return c.fs.usageError("--address: %v", err)
			}
			q.Digest = &d
		}
		return c.print(ctx, a, l, q, all)
	})
}

// query turns the flags into a ledger query; now anchors relative times.
func (c *logCmd) query(now time.Time) (ledger.Query, error) {
	q := ledger.Query{Rep: *c.rep, Verdict: ledger.Verdict(*c.verdict), Reason: ledger.Reason(*c.reason),
		List: *c.list, Domain: strings.ToLower(*c.domain), Cursor: *c.cursor}
	var err error
	if q.Since, err = parseWhen(*c.since, now); err != nil {
		return q, c.fs.usageError("--since: %v", err)
	}
	if q.Until, err = parseWhen(*c.until, now); err != nil {
		return q, c.fs.usageError("--until: %v", err)
	}
	if q.Verdict != "" && !q.Verdict.Valid() {
		return q, c.fs.usageError("--verdict: %q is not allowed, refused or tempfail", *c.verdict)
	}
	if _, err := ledger.ParseCursor(q.Cursor); err != nil {
		return q, c.fs.usageError("--cursor: not a cursor this command printed")
	}
	f, err := outputFormat(c.fs, *c.format, *c.asJSON)
	if err != nil {
		return q, err
	}
	*c.format = f
	if *c.limit > ledger.MaxLimit {
		return q, c.fs.usageError("--limit: at most %d a page; csv and json without --limit write every match", ledger.MaxLimit)
	}
	if *c.limit >= 0 {
		q.Limit = *c.limit
	}
	return q, nil
}

// parseWhen reads "" (no bound), a duration back from now ("24h", "7d"),
// a date (UTC midnight) or an RFC 3339 time.
func parseWhen(s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if d, err := duration.Parse(s); err == nil {
		return now.Add(-d), nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is neither a duration (\"24h\", \"7d\"), a date (2026-06-15) nor an RFC 3339 time", s)
}

// addressDigest is the address's key in the ledger: the same keyed digest
// as on the opt-out list.
func addressDigest(cfg *config.Config, raw string) (ledger.Digest, error) {
	addr, err := lists.NormaliseEmail(raw)
	if err != nil {
		return ledger.Digest{}, err
	}
	key, err := cfg.HMACKey()
	if err != nil {
		return ledger.Digest{}, fmt.Errorf("digest key: %w", err)
	}
	return ledger.RcptDigest(key, addr), nil
}

// print writes one page, or with all every page, in the chosen format.
func (c *logCmd) print(ctx context.Context, a *app, l ledger.Ledger, q ledger.Query, all bool) error {
	w, err := newDecisionWriter(*c.format, a.stdout)
	if err != nil {
		return err
	}
	if all {
		_, err := export.Stream(ctx, l, q, w)
		return err
	}
	p, err := l.Query(ctx, q)
	if err != nil {
		return err
	}
	if err := w.Write(p.Decisions); err != nil {
		return err
	}
	if err := w.Flush(); err != nil {
		return err
	}
	switch {
	case p.Next != "":
		fmt.Fprintf(a.stderr, "more: add --cursor %s\n", p.Next)
	case len(p.Decisions) == 0 && *c.format == "table":
		fmt.Fprintln(a.stderr, "no decision matches")
	}
	return nil
}

func newDecisionWriter(format string, w io.Writer) (export.Writer, error) {
	switch format {
	case "csv":
		return export.NewCSV(w)
	case "json":
		return export.NewJSON(w), nil
	case "table":
		return newDecisionTable(w), nil
	}
	return nil, errors.New("unknown format " + format)
}

// decisionTable is the terminal's view: one line a recipient.
type decisionTable struct {
	tw     *tabwriter.Writer
	header bool
}

func newDecisionTable(w io.Writer) *decisionTable {
	return &decisionTable{tw: tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)}
}

func (t *decisionTable) Write(ds []ledger.Decision) error {
	if !t.header && len(ds) > 0 {
		fmt.Fprintln(t.tw, "TIME\tREF\tREP\tRECIPIENT\tVERDICT\tREASON\tOUTCOME")
		t.header = true
	}
	for _, d := range ds {
		fmt.Fprintf(t.tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", d.At.Local().Format("2006-01-02 15:04:05"),
			printable(d.Ref), printable(d.Rep), printable(d.RcptMasked), d.Verdict, printable(string(d.Reason)), d.Outcome.Kind)
	}
	return nil
}

func (t *decisionTable) Flush() error { return t.tw.Flush() }

// printable keeps control characters from a stored value off the
// terminal.
func printable(s string) string {
	return strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return '?'
		}
		return r
	}, s)
}
